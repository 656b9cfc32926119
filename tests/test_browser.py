"""The page in a real browser: the app served by waitress, driven by Playwright with Debian's Chromium.

Screenshots of the results page (desktop 1280 px and phone 375 px) go to artifacts/ (git-ignored).
"""

import os
import re
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


def _unavailable(reason):
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser tests cannot run in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def playwright_module():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    if not os.access(CHROMIUM, os.X_OK):
        _unavailable(f"{CHROMIUM} is missing")
    return sync_playwright


def _serve(index_dir):
    """The real app under waitress on 127.0.0.1, on a free port, in a background thread."""
    from waitress.server import create_server

    from webui.app import create_app

    app = create_app({"INDEX_DIR": str(index_dir)})
    srv = create_server(app, host="127.0.0.1", port=0, threads=4, ident="vnsearch-test")
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.effective_port}"
    srv.close()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def server(seeds_index):
    yield from _serve(seeds_index)


@pytest.fixture(scope="module")
def archive_server(archive_index):
    yield from _serve(archive_index)


@pytest.fixture(scope="module")
def browser(playwright_module):
    with playwright_module() as p:
        try:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        except Exception as e:  # a broken install: the same rule as a missing one
            _unavailable(f"chromium does not start: {e}")
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.problems = problems
    yield page
    context.close()


def query_of(url):
    return parse_qs(urlsplit(url).query)


def test_search_facet_back_and_article(server, page):
    page.goto(server + "/")
    assert page.title().startswith("Tìm tin tức")
    box = page.locator("#q")
    box.fill("dang vien")
    box.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q=dang\+vien$"))

    hits = page.locator("ol.hits > li")
    assert hits.count() == 5
    assert page.locator(".snippet mark").count() > 0
    assert page.locator(".hit-title mark").first.inner_text().lower() in ("đảng viên", "đảng")
    assert "5 kết quả" in page.locator(".results-stats").inner_text()
    region_counts = page.locator("#facet-region ~ .facet-list .count").all_inner_texts()
    assert sum(int(c) for c in region_counts if c.strip()) > 0

    # a province facet narrows the list and the counts, and the URL says so
    page.locator(".facet-link", has_text="Hồ Chí Minh").first.click()
    page.wait_for_url(re.compile(r"province="))
    assert query_of(page.url) == {"q": ["dang vien"], "province": ["Hồ Chí Minh"]}
    assert hits.count() == 1
    assert "Thủ Đức" in hits.first.inner_text()
    assert "1 kết quả" in page.locator(".results-stats").inner_text()
    selected = page.locator(".facet-link.selected")
    assert selected.count() >= 1 and selected.first.get_attribute("aria-current") == "true"
    assert page.locator(".chip-active", has_text="Hồ Chí Minh").count() == 1
    assert [int(c) for c in page.locator("#facet-region ~ .facet-list .count").all_inner_texts()] == [1, 1, 1]

    # Back returns the earlier results
    page.go_back()
    page.wait_for_url(re.compile(r"/search\?q=dang\+vien$"))
    assert hits.count() == 5

    # sorting is a link too
    page.get_by_role("link", name="Mới nhất").click()
    page.wait_for_url(re.compile(r"sort=newest"))
    assert "Ngã Bảy" in hits.first.inner_text()

    # open an article: clean text, the query marked, a way back
    page.locator(".hit-title a").first.click()
    page.wait_for_url(re.compile(r"/article/"))
    assert page.locator("h1.article-title").inner_text()
    assert page.locator(".article-body p").count() >= 2
    assert page.locator(".article-body mark, .lead mark, h1 mark").count() > 0
    page.locator(".back-link").click()
    page.wait_for_url(re.compile(r"/search\?"))
    assert query_of(page.url)["sort"] == ["newest"]
    assert not [p for p in page.problems if "Content Security Policy" in p or "Refused" in p], page.problems


def test_keyboard_skip_link_and_search_box(server, page):
    page.goto(server + "/search?q=Th%E1%BB%A7+%C4%90%E1%BB%A9c")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    box = page.locator(".skip-link").bounding_box()
    assert box and box["y"] >= 0 and box["height"] > 10  # visible once focused
    for _ in range(4):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "q":
            break
    assert page.evaluate("document.activeElement.id") == "q"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # a visible focus ring
    page.keyboard.press("Control+A")
    page.keyboard.type("Ngã Bảy")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"q=Ng%C3%A3\+B%E1%BA%A3y"))
    assert "Ngã Bảy" in page.locator("ol.hits > li").first.inner_text()

    # "/" jumps to the search box from anywhere on the page
    page.locator("body").click(position={"x": 5, "y": 600})
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "q"


def test_date_form_and_clearing_filters(server, page):
    page.goto(server + "/search?q=dang+vien")
    page.fill("#date-from", "2024-01-01")
    page.fill("#date-to", "2024-12-31")
    page.locator(".date-form button").click()
    page.wait_for_url(re.compile(r"from=2024-01-01"))
    assert query_of(page.url) == {"q": ["dang vien"], "from": ["2024-01-01"], "to": ["2024-12-31"]}
    assert page.locator("ol.hits > li").count() == 2
    page.locator(".active-filters .clear-filters").click()
    page.wait_for_url(re.compile(r"/search\?q=dang\+vien$"))
    assert page.locator("ol.hits > li").count() == 5


def test_screenshots_desktop_and_phone(server, browser):
    ARTIFACTS.mkdir(exist_ok=True)
    for name, width, height in (("desktop", 1280, 900), ("phone", 375, 812)):
        context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=1,
                                      locale="vi-VN", color_scheme="light")
        page = context.new_page()
        page.goto(server + "/search?q=dang+vien")
        assert page.locator("ol.hits > li").count() == 5
        # nothing wider than the screen: no sideways scrolling on a phone
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(ARTIFACTS / f"results-{name}.png"), full_page=True)
        if name == "phone":
            # the filters come after the results, reachable by a link
            results = page.locator(".results").bounding_box()
            filters = page.locator("#filters").bounding_box()
            assert filters["y"] > results["y"]
            assert page.locator(".to-filters").is_visible()
        else:
            results = page.locator(".results").bounding_box()
            filters = page.locator("#filters").bounding_box()
            assert filters["x"] < results["x"]  # a sidebar beside the results
            assert page.locator(".to-filters").bounding_box()["width"] <= 1  # until a keyboard reaches it
        page.goto(server + "/")
        page.screenshot(path=str(ARTIFACTS / f"home-{name}.png"), full_page=True)
        page.goto(server + "/article/002_7cfa0be5b48b213f?q=Th%E1%BB%A7+%C4%90%E1%BB%A9c")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(ARTIFACTS / f"article-{name}.png"), full_page=True)
        context.close()
    assert (ARTIFACTS / "results-desktop.png").stat().st_size > 10_000
    assert (ARTIFACTS / "results-phone.png").stat().st_size > 10_000


def test_suggestions_follow_the_keyboard(archive_server, page):
    page.goto(archive_server + "/")
    box = page.locator("#q")
    assert box.get_attribute("role") == "combobox" and box.get_attribute("aria-expanded") == "false"
    box.press_sequentially("bong d", delay=30)  # typing is never held up: every letter lands
    listbox = page.get_by_role("listbox", name="Gợi ý tìm kiếm")
    listbox.wait_for()
    assert box.input_value() == "bong d" and box.get_attribute("aria-expanded") == "true"
    options = listbox.get_by_role("option")
    assert options.first.inner_text() == "bóng đá"
    assert "gợi ý" in page.locator("[role=status]").last.inner_text()

    # arrows move through the list, and the box says which option is active
    page.keyboard.press("ArrowDown")
    assert box.get_attribute("aria-activedescendant") == options.first.get_attribute("id")
    assert options.first.get_attribute("aria-selected") == "true"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    assert options.first.get_attribute("aria-selected") == "true"

    # Esc closes the list and keeps what was typed
    page.keyboard.press("Escape")
    assert listbox.is_hidden() and box.input_value() == "bong d"
    assert box.get_attribute("aria-expanded") == "false"

    # typing again opens it; Enter on «bóng đá» searches for it
    box.press_sequentially("a", delay=30)
    page.keyboard.press("Backspace")
    listbox.wait_for()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q="))
    assert query_of(page.url) == {"q": ["bóng đá"]}
    assert page.locator("ol.hits > li").count() == 4
    assert not page.problems, page.problems


def test_a_title_suggestion_opens_its_article(archive_server, page):
    page.goto(archive_server + "/search?q=xe")
    page.locator("#q").fill("")
    page.locator("#q").press_sequentially("xe bu", delay=30)
    option = page.get_by_role("option", name=re.compile("Hà Nội mở rộng tuyến xe buýt nhanh"))
    option.wait_for()
    for _ in range(page.get_by_role("option").count()):
        page.keyboard.press("ArrowDown")
        if option.get_attribute("aria-selected") == "true":
            break
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/article/hn-1$"))
    assert not page.problems, page.problems


def test_a_timeline_bar_narrows_to_its_month(archive_server, page):
    page.goto(archive_server + "/search?q=bong")
    bars = page.locator(".timeline-chart a")
    assert bars.count() == 3
    counts = [int(c) for c in page.locator(".timeline-chart [data-count]").evaluate_all(
        "els => els.map(e => e.getAttribute('data-count'))")]
    assert sum(counts) == 6
    assert bars.nth(1).get_attribute("aria-label") == "Tháng 6/2017: 2 bài"
    heights = [box["height"] for box in (bars.nth(i).locator(".bar").bounding_box() for i in range(3))]
    assert heights[0] > heights[1] > heights[2] > 0  # 3, 2 and 1 articles
    bars.nth(1).click()
    page.wait_for_url(re.compile(r"from=2017-06-01"))
    assert query_of(page.url) == {"q": ["bong"], "from": ["2017-06-01"], "to": ["2017-06-30"]}
    assert page.locator("ol.hits > li").count() == 2
    assert not page.problems, page.problems


@pytest.fixture(scope="module")
def places_server(tmp_path_factory):
    """Forty provinces' news: a place facet long enough to push the date facet away."""
    from index.locality import gazetteer
    from tests.conftest import index_of

    provinces = [p.name for p in gazetteer.provinces()][:40]
    records = [{"id": f"p{n}", "title": f"Tin thời tiết ở {name}", "province": name, "date": f"2017-0{1 + n % 6}-10",
                "body": f"Thời tiết ở {name} hôm nay nắng nhẹ."} for n, name in enumerate(provinces)]
    yield from _serve(index_of(tmp_path_factory.mktemp("places"), records))


def test_a_long_place_list_shows_the_top_places_and_xem_them(places_server, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    page = context.new_page()
    page.goto(places_server + "/search?q=th%E1%BB%9Di+ti%E1%BA%BFt")
    assert page.locator("ol.hits > li").count() == 10
    top = page.locator("#facet-region + .facet-list .facet-link")
    assert top.count() >= 10 and top.last.is_visible()  # the busiest regions and provinces first
    more = page.locator(".facet-more summary")
    assert more.inner_text().startswith("Xem thêm")
    hidden = page.locator(".facet-more .facet-link")
    assert hidden.count() > 0 and not hidden.first.is_visible()
    date_title = page.locator("#facet-date").bounding_box()
    assert date_title["y"] + date_title["height"] < 900  # the date facet in sight without scrolling
    more.focus()
    page.keyboard.press("Enter")  # a <details>: opened from the keyboard, no script needed
    assert hidden.first.is_visible()
    context.close()


def test_keyboard_users_reach_the_facets_in_a_few_presses_and_see_them(server, browser):
    context = browser.new_context(viewport={"width": 1024, "height": 420}, locale="vi-VN")
    page = context.new_page()
    page.goto(server + "/search?q=dang+vien")
    presses = 0
    while page.evaluate("document.activeElement.className") != "to-filters" and presses < 10:
        page.keyboard.press("Tab")
        presses += 1
    assert page.evaluate("document.activeElement.className") == "to-filters" and presses <= 6
    assert page.locator(".to-filters").bounding_box()["width"] > 20  # shown once focused
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert "facet-link" in page.evaluate("document.activeElement.className")
    # going through the facets, and back up, no focused link hides under the sticky header
    header = page.locator(".site-header").bounding_box()
    for key in ["Tab"] * 8 + ["Shift+Tab"] * 12:
        page.keyboard.press(key)
        box = page.evaluate("(() => { const r = document.activeElement.getBoundingClientRect(); "
                            "return {top: r.top, bottom: r.bottom}; })()")
        assert box["top"] >= header["y"] + header["height"] - 1, (key, box, header)
    context.close()


def test_at_375_px_the_search_button_keeps_its_name(server, browser):
    context = browser.new_context(viewport={"width": 375, "height": 812}, locale="vi-VN")
    page = context.new_page()
    page.goto(server + "/search?q=dang+vien")
    button = page.get_by_role("button", name="Tìm", exact=True)
    assert button.count() == 1 and button.is_visible()
    assert page.locator(".search-button span").bounding_box()["width"] <= 1  # the icon alone is seen
    context.close()


def test_dates_are_typed_day_first(server, page):
    page.goto(server + "/search?q=dang+vien")
    assert page.locator("#date-from").get_attribute("placeholder") == "ngày/tháng/năm"
    page.fill("#date-from", "01/01/2024")
    page.fill("#date-to", "31/12/2024")
    page.locator(".date-form button").click()
    page.wait_for_url(re.compile(r"from=2024-01-01"))
    assert query_of(page.url) == {"q": ["dang vien"], "from": ["2024-01-01"], "to": ["2024-12-31"]}
    assert page.locator("#date-from").input_value() == "01/01/2024"
    assert page.locator("ol.hits > li").count() == 2


def test_an_article_shows_its_paragraphs_caption_and_related_articles(archive_server, page):
    page.goto(archive_server + "/article/bd-2")
    related = page.get_by_role("region", name="Bài liên quan").get_by_role("link")
    assert 1 <= related.count() <= 5
    first = related.first.inner_text()
    assert first == "Đội tuyển bóng đá Việt Nam thắng Thái Lan tại Hà Nội"
    related.first.click()
    page.wait_for_url(re.compile(r"/article/bd-1(-copy)?$"))
    assert page.locator(".article-body p").count() >= 1
    page.goto(archive_server + "/article/bd-1")
    assert page.locator(".article-body p").count() == 4
    caption = page.locator(".article-body p.caption")
    assert caption.inner_text().endswith("(Ảnh: Minh Anh).")
    assert caption.evaluate("p => getComputedStyle(p).fontStyle") == "italic"  # set apart from the text
    assert not page.problems, page.problems
