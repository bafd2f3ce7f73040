"""Reading label files: the real recordings and footage labels, and malformed files."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from posture_watch.errors import UserError
from posture_watch.evaluation.labels import (
    ExpectedReminder,
    LabelledInput,
    Segment,
    expected_states,
    find_labelled_clips,
    read_clip_labels,
    read_footage,
    still_expected_states,
)

RECORDINGS = Path(__file__).resolve().parents[1] / "recordings"
# The shared footage sits beside the checkout (../shared/footage from the repo root).
FOOTAGE = Path(__file__).resolve().parents[2] / "shared" / "footage"
needs_footage = pytest.mark.skipif(
    not (FOOTAGE / "labels_videos.csv").is_file(),
    reason=f"shared footage not found at {FOOTAGE} (it lives beside the checkout)",
)

GOOD = {"good"}
BAD = {"caution", "poor"}
AWAY = {"away"}
# Written out by hand from the design notes and the brief, not copied from the module.
CLIP_LABELS = {
    "upright": GOOD,
    "away": AWAY,
    "slouched": BAD,
    "forward_head": BAD,
    "head_tilt": BAD,
    "shoulder_tilt": BAD,
    "shrug": BAD,
    "looking_down": BAD,
}
FOOTAGE_LABELS = {
    "upright": GOOD,
    "absent": AWAY,
    "lateral_head_tilt": BAD,
    "person_standing": {"good", "caution", "unknown"},
}


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def clip_with_labels(folder: Path, labels: str, name: str = "clip.mp4") -> Path:
    clip = write(folder / name, "not really a video")
    write(folder / (clip.stem + ".labels.csv"), labels)
    return clip


def assert_one_line_error(excinfo: pytest.ExceptionInfo[UserError], *parts: str) -> None:
    message = str(excinfo.value)
    assert "\n" not in message
    for part in parts:
        assert part in message, message


# --- vocabulary ------------------------------------------------------------------------


@pytest.mark.parametrize("label", sorted(CLIP_LABELS.keys() | FOOTAGE_LABELS.keys()))
def test_every_known_label_maps_to_its_states(label: str) -> None:
    wanted = CLIP_LABELS.get(label) or FOOTAGE_LABELS[label]
    assert expected_states(label) == wanted


def test_person_standing_is_present_but_never_away_or_poor() -> None:
    states = expected_states("person_standing")
    assert "away" not in states and "poor" not in states


def test_an_unknown_label_is_an_error_naming_it() -> None:
    with pytest.raises(UserError) as excinfo:
        expected_states("slumped")
    assert_one_line_error(excinfo, "'slumped'")


@pytest.mark.parametrize(("posture_label", "wanted"), [
    ("upright", GOOD),
    ("upright (STANDING at standing desk)", GOOD),
    ("forward_head/hunched+head_tilt", BAD),
    ("forward_head/leaning forward (STANDING)", BAD),
    ("slouched/hunched_forward", BAD),
    ("reclined/leaning_back", BAD),
])
def test_still_labels_map_by_their_leading_word(posture_label: str, wanted: set[str]) -> None:
    assert still_expected_states(posture_label) == wanted


def test_kneeling_stills_are_left_out_and_unknown_ones_refused() -> None:
    assert still_expected_states("kneeling (legs folded; repo class)") is None
    with pytest.raises(UserError) as excinfo:
        still_expected_states("lying down")
    assert_one_line_error(excinfo, "'lying down'")


# --- the real recordings ---------------------------------------------------------------


def test_every_recording_label_is_in_the_vocabulary() -> None:
    inputs = find_labelled_clips([RECORDINGS])
    assert len(inputs) >= 9
    seen = set()
    for item in inputs:
        assert item.path.suffix == ".mp4"
        for seg in item.segments:
            assert seg.expected == CLIP_LABELS[seg.label], (item.path.name, seg)
            assert seg.end_s > seg.start_s
            seen.add(seg.label)
    assert seen == set(CLIP_LABELS)


def test_long_session_brings_its_reminders_and_config() -> None:
    item = read_clip_labels(RECORDINGS / "long_session.mp4")
    assert item.reminders == (
        ExpectedReminder(13.5, "posture", 1.5),
        ExpectedReminder(16.0, "stretch", 1.0),
        ExpectedReminder(25.0, "break", 1.0),
    )
    assert item.config == RECORDINGS / "long_session.config.toml"
    assert [s.label for s in item.segments] == [
        "upright", "slouched", "upright", "away", "upright"]
    assert item.segments[1] == Segment(9.5, 19.0, "slouched", frozenset(BAD))


def test_a_clip_without_reminders_file_gives_no_expectations() -> None:
    item = read_clip_labels(RECORDINGS / "slouch_hopper.mp4")
    assert item.reminders is None
    assert item.config is None
    assert (item.group, item.view) == ("", "front")


# --- the shared footage ----------------------------------------------------------------


@needs_footage
def test_every_footage_video_label_maps() -> None:
    videos = [i for i in read_footage(FOOTAGE) if not i.group]
    assert [v.path.name[:3] for v in videos] == [
        "v01", "v02", "v03", "v05", "v06", "v07", "v08", "v09"]
    for video in videos:
        assert video.path.is_file()
        assert video.reminders is None
        for seg in video.segments:
            assert seg.expected == FOOTAGE_LABELS[seg.label], (video.path.name, seg)


@needs_footage
def test_the_room_camera_clip_has_seven_empty_stretches() -> None:
    v08 = next(i for i in read_footage(FOOTAGE) if i.path.name.startswith("v08"))
    labels = [s.label for s in v08.segments]
    assert labels.count("absent") == 7
    assert labels.count("person_standing") == 6
    assert v08.segments[0] == Segment(0.0, 6.0, "absent", frozenset(AWAY))
    assert v08.segments[-1].end_s == 139.4


@needs_footage
def test_footage_stills_groups_views_and_upright_stills() -> None:
    stills = [i for i in read_footage(FOOTAGE) if i.group]
    # labels_stills.csv: 17 rows, its two kneeling stills left out (a class of the source,
    # legs folded under); labels_side_stills.csv: 139 rows, s06's kneeling ones labelled
    # upright there (back upright, legs tucked under the chair).
    assert len(stills) == 15 + 139
    assert not any("kneeling" in s.path.name for s in stills if "s04" in str(s.path))
    by_group: dict[str, list[LabelledInput]] = {}
    for still in stills:
        assert still.path.is_file()
        (seg,) = still.segments
        assert (seg.start_s, seg.end_s) == (0.0, math.inf)
        by_group.setdefault(still.group, []).append(still)
    assert {g: len(v) for g, v in by_group.items()} == {
        "s03-front": 2, "s03-side": 2, "s04-side": 11, "s05-A-side": 62, "s05-C-side": 52,
        "s06-side": 25}
    assert all(s.view == "side" for g, v in by_group.items() if g.endswith("side") for s in v)
    # The upright stills of each group: `evaluate` calibrates the group on the first few.
    upright = {g: [s.path.name for s in v if s.segments[0].expected == {"good"}]
               for g, v in by_group.items() if g.startswith(("s03", "s04"))}
    assert upright == {
        "s03-front": ["s03_donmaen_front_good.png"],
        "s03-side": ["s03_donmaen_side_good.png"],  # a standing person, labelled upright
        "s04-side": ["straight_flip.jpg", "straight_hf.jpg", "straight_hf_flip.jpg"],
    }
    assert all(s.view == "side" for s in by_group["s04-side"] + by_group["s03-side"])
    assert all(s.view == "front" for s in by_group["s03-front"])
    bad = [s.path.name for s in stills if s.segments[0].expected == BAD]
    # s03 front_bad and side_bad; s04 hunchback x4, recline x4; s05 64; s06 hunched and
    # reclined 14
    assert len(bad) == 2 + 8 + 64 + 14


def test_find_labelled_clips_reads_a_footage_folder(tmp_path: Path) -> None:
    write(tmp_path / "a.mp4", "x")
    write(tmp_path / "labels_videos.csv", "file,start_s,end_s,label,notes\n"
                                          "a.mp4,0,4,absent,\na.mp4,4,9,upright,\n")
    (item,) = find_labelled_clips([tmp_path])
    assert item.path == tmp_path / "a.mp4"
    assert [s.label for s in item.segments] == ["absent", "upright"]


# --- finding clips ---------------------------------------------------------------------


def test_a_folder_is_searched_for_clips_that_have_labels(tmp_path: Path) -> None:
    clip_with_labels(tmp_path, "start_s,end_s,label\n0,5,upright\n", "b.mp4")
    clip_with_labels(tmp_path, "start_s,end_s,label\n0,5,away\n", "a.gif")
    write(tmp_path / "unlabelled.mp4", "x")
    sub = tmp_path / "sub"
    sub.mkdir()
    clip_with_labels(sub, "start_s,end_s,label\n0,5,upright\n", "deep.mp4")
    found = find_labelled_clips([tmp_path])
    assert [i.path.name for i in found] == ["a.gif", "b.mp4"]


def test_a_file_without_labels_is_an_error(tmp_path: Path) -> None:
    clip = write(tmp_path / "bare.mp4", "x")
    with pytest.raises(UserError) as excinfo:
        find_labelled_clips([clip])
    assert_one_line_error(excinfo, "bare.mp4", "bare.labels.csv")


def test_a_missing_path_or_a_folder_without_labels_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(UserError) as excinfo:
        find_labelled_clips([tmp_path / "nowhere"])
    assert_one_line_error(excinfo, "nowhere")
    write(tmp_path / "bare.mp4", "x")
    with pytest.raises(UserError) as excinfo:
        find_labelled_clips([tmp_path])
    assert_one_line_error(excinfo, str(tmp_path))


def test_a_header_only_reminders_file_expects_no_reminders(tmp_path: Path) -> None:
    clip = clip_with_labels(tmp_path, "start_s,end_s,label\n0,5,upright\n")
    write(tmp_path / "clip.reminders.csv", "t_s,kind,tolerance_s\n")
    assert read_clip_labels(clip).reminders == ()


def test_segments_come_sorted_and_labels_may_have_spaces(tmp_path: Path) -> None:
    clip = clip_with_labels(tmp_path, "start_s, end_s, label\n5,9, away\n0,5,upright\n\n")
    segments = read_clip_labels(clip).segments
    assert [(s.start_s, s.end_s, s.label) for s in segments] == [
        (0.0, 5.0, "upright"), (5.0, 9.0, "away")]


# --- malformed files -------------------------------------------------------------------


@pytest.mark.parametrize(("labels", "parts"), [
    ("start_s,label\n0,upright\n", ["missing column end_s"]),
    ("start_s,end_s,label\n0,8,upright\n9.5,abc,slouched\n", ["line 3", "end_s", "'abc'"]),
    ("start_s,end_s,label\n0,,upright\n", ["line 2", "end_s", "''"]),
    ("start_s,end_s,label\n0,nan,upright\n", ["line 2", "finite"]),
    ("start_s,end_s,label\n0,8,upright\n9,12,slumped\n", ["line 3", "'slumped'"]),
    ("start_s,end_s,label\n8,8,upright\n", ["line 2", "after start_s"]),
    ("start_s,end_s,label\n-1,8,upright\n", ["line 2", "negative"]),
    ("start_s,end_s,label\n0,8,upright,extra\n", ["line 2", "more fields"]),
    ("start_s,end_s,label\n0,8,upright\n7,9,away\n", ["line 3", "overlaps"]),
    ("start_s,end_s,label\n", ["no labelled segments"]),
    ("", ["empty file"]),
])
def test_malformed_labels_give_one_line_naming_the_file(
        tmp_path: Path, labels: str, parts: list[str]) -> None:
    clip = clip_with_labels(tmp_path, labels)
    with pytest.raises(UserError) as excinfo:
        read_clip_labels(clip)
    assert_one_line_error(excinfo, "clip.labels.csv", *parts)


@pytest.mark.parametrize(("reminders", "parts"), [
    ("t_s,kind\n13.5,posture\n", ["missing column tolerance_s"]),
    ("t_s,kind,tolerance_s\n13.5,posture,soon\n", ["line 2", "tolerance_s", "'soon'"]),
    ("t_s,kind,tolerance_s\n13.5,nap,1\n", ["line 2", "'nap'"]),
    ("t_s,kind,tolerance_s\n13.5,posture,-1\n", ["line 2", "negative"]),
])
def test_malformed_reminders_give_one_line_naming_the_file(
        tmp_path: Path, reminders: str, parts: list[str]) -> None:
    clip = clip_with_labels(tmp_path, "start_s,end_s,label\n0,5,upright\n")
    write(tmp_path / "clip.reminders.csv", reminders)
    with pytest.raises(UserError) as excinfo:
        read_clip_labels(clip)
    assert_one_line_error(excinfo, "clip.reminders.csv", *parts)


def test_unreadable_text_is_a_one_line_error(tmp_path: Path) -> None:
    clip = write(tmp_path / "clip.mp4", "x")
    (tmp_path / "clip.labels.csv").write_bytes(b"start_s,end_s,label\n0,5,\xff\xfe\n")
    with pytest.raises(UserError) as excinfo:
        read_clip_labels(clip)
    assert_one_line_error(excinfo, "clip.labels.csv", "UTF-8")


VIDEO_HEADER = "file,start_s,end_s,label,notes\n"
STILL_HEADER = "file,source_repo,path_in_repo,posture_label,camera_view,notes\n"


@pytest.mark.parametrize(("videos", "parts"), [
    (VIDEO_HEADER + "a.mp4,0,5,upright,\ngone.mp4,0,5,upright,\n", ["line 3", "'gone.mp4'"]),
    (VIDEO_HEADER + "a.mp4,0,5,sitting,\n", ["line 2", "'sitting'"]),
    (VIDEO_HEADER + "a.mp4,0,x,upright,\n", ["line 2", "end_s", "'x'"]),
    ("file,start_s,label\na.mp4,0,upright\n", ["missing column end_s"]),
    (VIDEO_HEADER + ",0,5,upright,\n", ["line 2", "file is empty"]),
])
def test_malformed_footage_videos_give_one_line_naming_the_file(
        tmp_path: Path, videos: str, parts: list[str]) -> None:
    write(tmp_path / "a.mp4", "x")
    write(tmp_path / "labels_videos.csv", videos)
    with pytest.raises(UserError) as excinfo:
        read_footage(tmp_path)
    assert_one_line_error(excinfo, "labels_videos.csv", *parts)


@pytest.mark.parametrize(("stills", "parts"), [
    (STILL_HEADER + "s01_a.png,r,p,lying,front,\n", ["line 2", "'lying'"]),
    (STILL_HEADER + "s01_gone.png,r,p,upright,front,\n", ["line 2", "'s01_gone.png'"]),
    (STILL_HEADER + "s01_a.png,r,p,upright,front,\ns01_a.png,r,p,upright,side,\n",
     ["line 3", "twice"]),
    ("file,posture_label\ns01_a.png,upright\n", ["missing column camera_view"]),
])
def test_malformed_footage_stills_give_one_line_naming_the_file(
        tmp_path: Path, stills: str, parts: list[str]) -> None:
    write(tmp_path / "s01_a.png", "x")
    write(tmp_path / "labels_stills.csv", stills)
    with pytest.raises(UserError) as excinfo:
        read_footage(tmp_path)
    assert_one_line_error(excinfo, "labels_stills.csv", *parts)


def test_a_folder_without_footage_labels_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(UserError) as excinfo:
        read_footage(tmp_path)
    assert_one_line_error(excinfo, "labels_videos.csv", "labels_stills.csv")


def test_stills_are_grouped_by_source_prefix_and_view(tmp_path: Path) -> None:
    for name in ("s01_bad.png", "s01_good.png", "s01_good2.png", "s01_side.png", "s02_x.png"):
        write(tmp_path / name, "x")
    write(tmp_path / "labels_stills.csv", STILL_HEADER
          + "s01_bad.png,r,p,slouched,front,\n"
          + "s01_good.png,r,p,upright,front (webcam),\n"
          + "s01_good2.png,r,p,upright,front,\n"
          + "s01_side.png,r,p,kneeling,side,\n"
          + "s02_x.png,r,p,reclined,Side view,\n")
    stills = read_footage(tmp_path)
    assert [(s.path.name, s.group, s.view, sorted(s.segments[0].expected))
            for s in stills] == [
        ("s01_bad.png", "s01-front", "front", ["caution", "poor"]),
        ("s01_good.png", "s01-front", "front", ["good"]),
        ("s01_good2.png", "s01-front", "front", ["good"]),
        ("s02_x.png", "s02-side", "side", ["caution", "poor"]),
    ]
