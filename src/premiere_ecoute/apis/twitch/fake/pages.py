"""The HTML shell of the fake Twitch's pages (login, chat): small, self-contained, no assets."""

from __future__ import annotations

from html import escape

_STYLE = """
body{font-family:system-ui,sans-serif;background:#18181b;color:#efeff1;max-width:46rem;
margin:2rem auto;padding:0 1rem}
h1{color:#bf94ff;font-size:1.4rem}a{color:#bf94ff}
button{background:#9147ff;color:#fff;border:0;border-radius:4px;padding:.4rem .8rem;margin:.2rem;
cursor:pointer}
input{padding:.35rem;border-radius:4px;border:1px solid #555;background:#0e0e10;color:#efeff1}
.users button{display:block;width:100%;text-align:left}
ol.chat{list-style:none;padding:0;max-height:24rem;overflow-y:auto;background:#0e0e10;
padding:.5rem;border-radius:4px}
ol.chat b{color:#bf94ff}.note{color:#adadb8;font-size:.9rem}
fieldset{border:1px solid #333;border-radius:4px;margin:1rem 0}
"""


def page(title: str, body: str) -> str:
    """A full HTML page; ``body`` must already be escaped where it holds user input."""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>"
    )
