#!/usr/bin/env python3
"""Render a terminal capture with ANSI SGR colours (`tmux capture-pane -e -p`) to a PNG.

Usage: ansi2png.py INPUT.ansi OUTPUT.png [COLS ROWS]
Needs Pillow and the DejaVu Sans Mono fonts.
"""
import re
import sys
import unicodedata

from PIL import Image, ImageDraw, ImageFont

FONT_DIR = "/usr/share/fonts/truetype/dejavu/"
SIZE = 16

# xterm's default 16 colours, close to what most terminals show.
BASE16 = [
    (0, 0, 0), (205, 49, 49), (13, 188, 121), (229, 229, 16),
    (36, 114, 200), (188, 63, 188), (17, 168, 205), (229, 229, 229),
    (102, 102, 102), (241, 76, 76), (35, 209, 139), (245, 245, 67),
    (59, 142, 234), (214, 112, 214), (41, 184, 219), (255, 255, 255),
]
DEFAULT_FG = (220, 220, 220)
DEFAULT_BG = (24, 24, 27)


def palette256(n):
    if n < 16:
        return BASE16[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return (steps[n // 36], steps[(n // 6) % 6], steps[n % 6])
    v = 8 + (n - 232) * 10
    return (v, v, v)


# The SGR codes that set or clear pen attributes: the attributes, and on or off.
FLAGS = {
    1: (("bold",), True), 2: (("dim",), True), 3: (("italic",), True),
    4: (("underline",), True), 7: (("reverse",), True), 9: (("strike",), True),
    22: (("bold", "dim"), False), 23: (("italic",), False), 24: (("underline",), False),
    27: (("reverse",), False), 29: (("strike",), False),
}


class Pen:
    def __init__(self):
        self.reset()

    def reset(self):
        self.fg = None
        self.bg = None
        self.bold = self.dim = self.italic = self.underline = self.reverse = self.strike = False

    def sgr(self, params):
        nums = [int(p) if p else 0 for p in params.split(";")] if params else [0]
        i = 0
        while i < len(nums):
            n = nums[i]
            if n == 0:
                self.reset()
            elif n in FLAGS:
                names, on = FLAGS[n]
                for name in names:
                    setattr(self, name, on)
            elif 30 <= n <= 37:
                self.fg = BASE16[n - 30]
            elif 90 <= n <= 97:
                self.fg = BASE16[n - 90 + 8]
            elif n == 39:
                self.fg = None
            elif 40 <= n <= 47:
                self.bg = BASE16[n - 40]
            elif 100 <= n <= 107:
                self.bg = BASE16[n - 100 + 8]
            elif n == 49:
                self.bg = None
            elif n in (38, 48) and i + 1 < len(nums):
                if nums[i + 1] == 5 and i + 2 < len(nums):
                    c = palette256(nums[i + 2])
                    i += 2
                elif nums[i + 1] == 2 and i + 4 < len(nums):
                    c = tuple(nums[i + 2:i + 5])
                    i += 4
                else:
                    c = None
                if n == 38:
                    self.fg = c
                else:
                    self.bg = c
            i += 1

    def colours(self):
        fg = self.fg or DEFAULT_FG
        bg = self.bg or DEFAULT_BG
        if self.reverse:
            fg, bg = bg, fg
        if self.dim:
            fg = tuple((a + b) // 2 for a, b in zip(fg, bg))
        return fg, bg


CSI = re.compile(r"\x1b\[([0-9;?]*)([A-Za-z])")


def parse(text, cols, rows):
    grid = []
    # tmux carries the pen over line ends: a line may start in the previous line's style.
    pen = Pen()
    for line in text.split("\n")[:rows]:
        cells = []
        pos = 0
        while pos < len(line):
            m = CSI.match(line, pos)
            if m:
                if m.group(2) == "m":
                    pen.sgr(m.group(1))
                pos = m.end()
                continue
            ch = line[pos]
            pos += 1
            if ch == "\x1b" or ch == "\r":
                continue
            fg, bg = pen.colours()
            style = (pen.bold, pen.italic, pen.underline, pen.strike)
            cells.append((ch, fg, bg, style))
            if unicodedata.east_asian_width(ch) in ("W", "F"):
                cells.append(("", fg, bg, style))
        grid.append(cells[:cols])
    return grid


def main():
    src, out = sys.argv[1], sys.argv[2]
    cols = int(sys.argv[3]) if len(sys.argv) > 3 else 120
    rows = int(sys.argv[4]) if len(sys.argv) > 4 else 40
    with open(src, encoding="utf-8", errors="replace") as f:
        text = f.read()
    fonts = {
        (False, False): ImageFont.truetype(FONT_DIR + "DejaVuSansMono.ttf", SIZE),
        (True, False): ImageFont.truetype(FONT_DIR + "DejaVuSansMono-Bold.ttf", SIZE),
        (False, True): ImageFont.truetype(FONT_DIR + "DejaVuSansMono-Oblique.ttf", SIZE),
        (True, True): ImageFont.truetype(FONT_DIR + "DejaVuSansMono-BoldOblique.ttf", SIZE),
    }
    regular = fonts[(False, False)]
    cw = round(regular.getlength("M"))
    ascent, descent = regular.getmetrics()
    ch_h = ascent + descent + 2
    pad = 8
    img = Image.new("RGB", (cols * cw + 2 * pad, rows * ch_h + 2 * pad), DEFAULT_BG)
    d = ImageDraw.Draw(img)
    for y, cells in enumerate(parse(text, cols, rows)):
        for x, (ch, fg, bg, (bold, italic, underline, strike)) in enumerate(cells):
            x0, y0 = pad + x * cw, pad + y * ch_h
            if bg != DEFAULT_BG:
                d.rectangle([x0, y0, x0 + cw - 1, y0 + ch_h - 1], fill=bg)
            if ch and ch != " ":
                # Box drawing is stretched to the cell so borders join up.
                if "\u2500" <= ch <= "\u257f":
                    draw_box(d, ch, x0, y0, cw, ch_h, fg)
                else:
                    d.text((x0, y0 + 1), ch, font=fonts[(bold, italic)], fill=fg)
            if underline:
                d.line([x0, y0 + ascent + 2, x0 + cw - 1, y0 + ascent + 2], fill=fg)
            if strike:
                d.line([x0, y0 + ch_h // 2, x0 + cw - 1, y0 + ch_h // 2], fill=fg)
    img.save(out)


def draw_box(d, ch, x0, y0, w, h, fg):
    cx, cy = x0 + w // 2, y0 + h // 2
    right, left, down, up = x0 + w, x0, y0 + h, y0
    arms = {
        "─": "lr", "│": "ud", "┌": "rd", "┐": "ld", "└": "ru", "┘": "lu",
        "├": "udr", "┤": "udl", "┬": "lrd", "┴": "lru", "┼": "lrud",
    }.get(ch)
    if arms is None:
        d.text((x0, y0 + 1), ch, fill=fg)
        return
    if "l" in arms:
        d.line([left, cy, cx, cy], fill=fg)
    if "r" in arms:
        d.line([cx, cy, right, cy], fill=fg)
    if "u" in arms:
        d.line([cx, up, cx, cy], fill=fg)
    if "d" in arms:
        d.line([cx, cy, cx, down], fill=fg)


if __name__ == "__main__":
    main()
