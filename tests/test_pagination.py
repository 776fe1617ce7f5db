"""One DSFR pagination for every paged list (templates/_pagination.html)."""

from __future__ import annotations

import re

from django.core.paginator import Paginator
from django.template.loader import render_to_string


def links(page, query=""):
    html = render_to_string("_pagination.html", {"page": page, "query": query})
    return html, dict(re.findall(r'href="\?([^"]*)"[^>]*>([^<]+)</a>', html))


def test_first_middle_and_last_pages_keep_the_filters():
    paginator = Paginator(range(2500), 50)  # 50 pages

    html, first = links(paginator.page(1), "famille=OPH&etapes=2")
    assert "Page 1 sur 50" in html
    assert first == {
        "famille=OPH&amp;etapes=2&amp;page=2": "Page suivante",
        "famille=OPH&amp;etapes=2&amp;page=50": "Dernière page",
    }
    assert html.count('aria-disabled="true"') == 2  # first and previous

    _, middle = links(paginator.page(25))
    assert set(middle.values()) == {
        "Première page",
        "Page précédente",
        "Page suivante",
        "Dernière page",
    }
    assert middle["page=24"] == "Page précédente" and middle["page=26"] == "Page suivante"

    html, last = links(paginator.page(50), "q=x")
    assert last == {"q=x&amp;page=1": "Première page", "q=x&amp;page=49": "Page précédente"}


def test_page_numbers_past_999_are_whole_in_links():
    paginator = Paginator(range(1200), 1)
    html, found = links(paginator.page(1100))
    assert found["page=1101"] == "Page suivante" and found["page=1200"] == "Dernière page"
    assert "Page 1\u202f100 sur 1\u202f200" in html  # shown grouped, linked whole


def test_a_single_page_draws_nothing():
    assert render_to_string("_pagination.html", {"page": Paginator([1], 50).page(1)}).strip() == ""
