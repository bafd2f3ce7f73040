"""The look shared by the shell's windows: calm, high-contrast, large type."""

from __future__ import annotations

BACKGROUND = "#1e2a33"
PANEL = "#26343f"
TEXT = "#f2f5f7"
MUTED = "#b5c2cc"
ACCENT = "#7fd1b9"

SHEET = f"""
QWidget#panel {{ background: {BACKGROUND}; }}
QLabel {{ color: {TEXT}; font-size: 16px; }}
QLabel#brand {{ color: {MUTED}; font-size: 13px; letter-spacing: 1px; }}
QLabel#title {{ font-size: 28px; font-weight: 600; }}
QLabel#lead {{ color: {MUTED}; font-size: 16px; }}
QLabel#stretch {{ color: {ACCENT}; font-size: 21px; font-weight: 600; }}
QLabel#why {{ color: {MUTED}; font-size: 15px; font-style: italic; }}
QLabel#countdown {{ font-size: 54px; font-weight: 300; }}
QLabel#note {{ color: {ACCENT}; font-size: 16px; }}
QPushButton {{ background: {PANEL}; color: {TEXT}; border: 1px solid #3d4f5c;
               border-radius: 6px; padding: 9px 20px; font-size: 15px; }}
QPushButton:hover {{ background: #30424f; }}
QPushButton:focus {{ border-color: {ACCENT}; }}
QPushButton:disabled {{ color: #6d7b86; }}
QTextEdit {{ background: {PANEL}; color: {TEXT}; border: none; font-size: 14px; }}
"""
