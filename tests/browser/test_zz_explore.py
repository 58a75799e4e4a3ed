import pytest, json
from tests.browser.test_accessibility import STATES, _reach
@pytest.mark.parametrize("state", list(STATES))
def test_explore(state, page, live_server, make):
    from axe_playwright_python.sync_playwright import Axe
    _reach(state, page, live_server, make)
    r = Axe().run(page, options={"resultTypes": ["incomplete"]}).response
    inc = [(v['id'], [n['target'] for n in v['nodes']][:4]) for v in r['incomplete']]
    links = page.eval_on_selector_all(".govuk-error-summary a", "els => els.map(a => [a.getAttribute('href'), !!document.querySelector(a.getAttribute('href'))])")
    print("\n##", state, page.url, "incomplete:", inc, "summary links:", links)
    page.screenshot(path=f"/tmp/shots/{state}.png", full_page=True)
