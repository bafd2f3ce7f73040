"""Reminder titles and texts, per-rule advice and the stretch catalogue.

Kept apart from the engine so the wording can change (or be translated) without touching
timer logic, and so the summary can reuse the same advice. The facts behind the texts come
from the shared back-and-shoulder-spasms guide (posture, screens at eye level, pacing and
gentle movement, warm-ups, hydration and electrolytes, stress, when to see a professional);
the numbers come from /work/shared/ergonomics.md with the sources named beside them.
posture-watch gives reminders, not medical advice.
"""

from __future__ import annotations

from dataclasses import dataclass

# Warning signs from the guide's "when to seek help" section.
CARE_NOTE = (
    "If pain lasts more than two weeks, or comes with numbness or tingling down an arm "
    "or with weakness, see a doctor or physiotherapist."
)

STOP_IF_IT_HURTS = "Move slowly and stop if it hurts."


@dataclass(frozen=True, slots=True)
class Stretch:
    """One desk stretch: what to do and how long (hold range in seconds x repetitions)."""

    key: str
    name: str
    how: str
    hold_s: tuple[float, float]
    reps: int
    per_side: bool
    why: str = ""  # what it does for the neck and shoulders, for the break screen

    @property
    def steps(self) -> tuple[str, ...]:
        """`how` as numbered steps (one sentence each) for the break screen."""
        parts = (part.strip().rstrip(".") for part in self.how.split(". "))
        return tuple(f"{part}." for part in parts if part)

    @property
    def dose(self) -> str:
        """'hold 5 s, 10 times', 'hold 15-30 s on each side', ..."""
        lo, hi = self.hold_s
        hold = f"{lo:g} s" if lo == hi else f"{lo:g}-{hi:g} s"
        side = " on each side" if self.per_side else ""
        if self.reps == 1:
            return f"hold {hold}{side}"
        return f"hold {hold}, {self.reps} times{side}"


# Holds and repetitions: CCOHS office stretches and NHS trust physiotherapy leaflets, as
# tabled in ergonomics.md ("Neck and shoulder stretches"). The order is the rotation order.
STRETCHES: tuple[Stretch, ...] = (
    Stretch(
        key="chin_tuck",
        name="Chin tuck",
        how="Sit tall with your eyes level and glide your head straight back, "
        "as if making a double chin.",
        hold_s=(5, 5),
        reps=10,
        per_side=False,
        why="It brings the head back over the shoulders and eases the muscles at the back of "
        "the neck that hold a forward head up.",
    ),
    Stretch(
        key="upper_trapezius",
        name="Upper-trapezius side stretch",
        how="Tuck one hand under your thigh, then tip the opposite ear toward its shoulder "
        "until the side of the neck feels a gentle pull. Swap sides.",
        hold_s=(15, 30),
        reps=1,
        per_side=True,
        why="It lengthens the muscle between neck and shoulder, which tightens when the "
        "shoulders creep up toward the ears at a keyboard.",
    ),
    Stretch(
        key="shrug_release",
        name="Shoulder shrug and release",
        how="Pull both shoulders up toward your ears, pause, then let them fall "
        "completely as you breathe out.",
        hold_s=(3, 5),
        reps=3,
        per_side=False,
        why="Tensing and then letting go shows the shoulders how low relaxed really is, and "
        "gets blood moving in muscles held still.",
    ),
    Stretch(
        key="shoulder_blade_squeeze",
        name="Shoulder-blade squeeze",
        how="Sit upright, open your chest and draw your shoulder blades together "
        "and a little down.",
        hold_s=(5, 5),
        reps=5,
        per_side=False,
        why="It works the muscles between the shoulder blades, which a rounded back leaves "
        "stretched and slack.",
    ),
    Stretch(
        key="neck_rotation",
        name="Neck rotation",
        how="Turn your head slowly to one side until you feel mild tension, come back "
        "to the middle, then turn to the other side.",
        hold_s=(5, 5),
        reps=3,
        per_side=True,
        why="It moves the neck through its range after a long time facing one screen, which "
        "keeps it from stiffening.",
    ),
    Stretch(
        key="cross_body_shoulder",
        name="Cross-body shoulder stretch",
        how="Bring one arm across your chest and ease it closer with the other hand, "
        "keeping that shoulder low. Change arms.",
        hold_s=(15, 30),
        reps=1,
        per_side=True,
        why="It stretches the back of the shoulder and the muscles around the shoulder blade "
        "that reaching for a mouse keeps busy.",
    ),
)


@dataclass(frozen=True, slots=True)
class RuleAdvice:
    label: str  # short name of the problem, for titles
    suggestion: str  # what to change, concretely


# Screen height: top edge at or just below eye level (OSHA; ISO 9241-5), as in
# ergonomics.md "Monitor placement". Distance: ROSA 40-75 cm, OSHA 50-100 cm.
RULE_ADVICE: dict[str, RuleAdvice] = {
    "neck_flexion": RuleAdvice(
        "head tipped down",
        "Your head keeps bending forward, so the screen is probably too low. Raise it until "
        "the top edge sits at or just under eye level; a laptop needs a stand or a pile of "
        "books plus a separate keyboard.",
    ),
    "neck_extension": RuleAdvice(
        "head tipped back",
        "You are tilting your head back to read, so the screen looks too high. Lower it "
        "until the top edge is level with your eyes or slightly below.",
    ),
    "forward_head": RuleAdvice(
        "head pushed forward",
        "Your head has crept toward the screen. Sit back, draw your chin in gently and "
        "bring the screen or the text size to you instead of leaning in.",
    ),
    "slouch": RuleAdvice(
        "slumped in the chair",
        "You are sinking into the chair. Slide your hips back so the backrest supports your "
        "lower back, put both feet flat on the floor and let your chest lift.",
    ),
    "head_roll": RuleAdvice(
        "head tilted to one side",
        "Your head is leaning to one side. Bring it level; if you read papers beside the "
        "screen, put them on a holder next to it at the same height.",
    ),
    "shoulder_tilt": RuleAdvice(
        "one shoulder higher",
        "One shoulder sits higher than the other. Check you are not leaning on one armrest "
        "or reaching sideways for the mouse, and rest both forearms evenly.",
    ),
    "shrug": RuleAdvice(
        "shoulders raised",
        "Your shoulders have crept up toward your ears, which is often tension or stress. "
        "Let them drop, unclench your jaw and take three slow breaths out.",
    ),
    "screen_too_close": RuleAdvice(
        "too close to the screen",
        "You are very close to the screen. Lean back and move the screen to about arm's "
        "length (50-75 cm); make the text bigger if you need to.",
    ),
    # OSHA computer workstations guidance: 50-100 cm.
    "screen_too_far": RuleAdvice(
        "far from the screen",
        "You sit more than about a metre from the screen, which invites leaning in to read. "
        "Bring the screen closer, or enlarge the text, so you can read it sitting back.",
    ),
    "head_yaw": RuleAdvice(
        "head turned to one side",
        "Your head has been turned to one side for a long time. Put the screen you use most "
        "straight in front of you, lined up with the keyboard.",
    ),
    "side_ear_shoulder": RuleAdvice(
        "head ahead of the shoulders",
        "Seen from the side, your head sits well in front of your shoulders. Draw it back "
        "until your ears are over your shoulders, and move the screen closer if needed.",
    ),
    "side_slouch": RuleAdvice(
        "hunched or sunk in the chair",
        "Seen from the side, your head and back have moved from where they sit when you are "
        "upright. Slide your hips back, sit tall against the backrest with your ears over "
        "your shoulders, and bring the screen nearer rather than leaning toward it.",
    ),
    "trunk_flexion": RuleAdvice(
        "leaning far forward",
        "You are bending forward from the hips. Sit back against the backrest and pull the "
        "keyboard and screen toward you.",
    ),
}

GENERIC_ADVICE = RuleAdvice(
    "posture check",
    "Sit back in the chair, level your head and let your shoulders drop, then check that "
    "the screen is at eye level and about an arm's length away.",
)


# The guide: muscles worked for hours without rest tire, and tired muscles relax badly and
# knot up; gentle movement keeps them from stiffening.
PACING_ADVICE = (
    "You sat longer than your break pattern allows: muscles held at work for hours without "
    "rest tire and relax badly, which is how knots and spasms start. Get up for a few "
    "minutes each hour; a short walk or a stretch is enough."
)


def rule_label(rule: str) -> str:
    """A short human name for a rule ("shoulders raised")."""
    advice = RULE_ADVICE.get(rule)
    return advice.label if advice else rule.replace("_", " ")


def suggestion_for_rule(rule: str) -> str:
    """Concrete advice for one posture rule; a general posture tip for unknown rules."""
    return RULE_ADVICE.get(rule, GENERIC_ADVICE).suggestion


def posture_text(rule: str | None, poor: bool) -> tuple[str, str]:
    """Title and message for a posture reminder about `rule` (None: no rule known)."""
    advice = RULE_ADVICE.get(rule, GENERIC_ADVICE) if rule else GENERIC_ADVICE
    title = "Posture check" if advice is GENERIC_ADVICE else f"Posture: {advice.label}"
    if poor:
        why = "Muscles kept in one strained position tire, and tired muscles can knot up."
    else:
        why = "A small strain held for a long time adds up over the day."
    return title, f"{advice.suggestion} {why}"


# One tip per break, in turn; each rests on a point from the guide.
BREAK_TIPS: tuple[str, ...] = (
    "Easy movement is the point: a short walk keeps the back and shoulders from stiffening.",
    "Muscles that work for hours without rest get tired, and tired muscles relax badly.",
    "Heading for something strenuous? Warm up first: sudden effort on cold muscles can "
    "bring on a cramp.",
    "Roll your shoulders and let them hang: stress tends to settle there as tightness.",
    "A good moment to refill your water glass.",
)


def break_text(index: int, present_s: float) -> tuple[str, str]:
    """Title and message for the index-th movement break (0-based)."""
    # 5-10 min of movement per 50-60 min of screen work: HSE DSE guidance, CCOHS.
    tip = BREAK_TIPS[index % len(BREAK_TIPS)]
    message = (
        f"You have been at the desk for {format_duration(present_s)}. Get up and move "
        f"for 5-10 minutes. {tip}"
    )
    return "Time for a movement break", message


def stretch_text(stretch: Stretch) -> tuple[str, str]:
    """Title and message for one stretch from the catalogue."""
    dose = stretch.dose[0].upper() + stretch.dose[1:]
    message = f"{stretch.how} {dose}. {STOP_IF_IT_HURTS} {CARE_NOTE}"
    return f"Stretch: {stretch.name}", message


def eyes_text() -> tuple[str, str]:
    """The 20-20-20 eye break (American Academy of Ophthalmology)."""
    message = (
        "Look at something about 6 metres (20 feet) away for 20 seconds and blink a few "
        "times; your eye muscles get to relax from close focus."
    )
    return "Eye break: 20-20-20", message


def hydration_text() -> tuple[str, str]:
    """A drink reminder; the guide lists dehydration and low electrolytes among spasm causes."""
    message = (
        "Have a glass of water. Running low on fluids, or on minerals such as potassium "
        "and magnesium, upsets how muscles contract and relax and can set off spasms."
    )
    return "Drink some water", message


def format_duration(seconds: float) -> str:
    """'45 s', '12 min', '2 h 5 min': short enough for a notification."""
    s = max(0.0, seconds)
    if s < 90:
        return f"{round(s)} s"
    minutes = round(s / 60)
    if minutes < 120:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h" if rest == 0 else f"{hours} h {rest} min"
