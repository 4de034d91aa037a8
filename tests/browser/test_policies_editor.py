"""The Rego editor: highlighting and line numbers (CodeMirror, vendored), and a compile
error shown at its line, with JavaScript and without it (a plain textarea)."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import Console, PageFactory
from tests.browser.support import assert_accessible, doc_shot

FILE = "engagement/intent.rego"
BROKEN = "broken := 1 + +"  # the engine says: expecting expression, at this line


def _break(source: str) -> tuple[str, int]:
    """``source`` with a broken line after its import, and that line's number."""
    lines = source.split("\n")
    at = lines.index("import rego.v1") + 1
    lines.insert(at, BROKEN)
    return "\n".join(lines), at + 1


async def test_a_compile_error_is_shown_at_its_line_in_the_editor(page_for: PageFactory) -> None:
    page = await page_for("compliance")
    await page.goto("/ui/policies")
    await page.get_by_role("button", name="Edit rules (Rego)").click()
    await page.get_by_role("link", name=FILE, exact=True).click()
    await page.locator(".CodeMirror-linenumber").first.wait_for()  # the editor took over
    assert await page.locator(".cm-keyword").count() > 0  # highlighted
    await assert_accessible(page, context="rego editor")
    await doc_shot(page, "policies-rules")
    source: str = await page.evaluate("() => window.regoEditor.getValue()")
    broken, bad_line = _break(source)
    await page.evaluate("(text) => window.regoEditor.setValue(text)", broken)
    await page.get_by_role("button", name="Compile, test and save as a new draft").click()
    alert = page.locator("#compile-error")
    await alert.wait_for()
    text = await alert.inner_text()
    assert FILE in text and f"line {bad_line}" in text, text
    marked = await page.evaluate("(n) => window.regoEditor.lineInfo(n - 1).bgClass", bad_line)
    assert marked == "cm-error-line"
    note = await page.locator(".cm-error-note").inner_text()
    assert note.startswith(f"Line {bad_line}:")
    # What was typed is kept, so it can be fixed in place.
    assert BROKEN in await page.evaluate("() => window.regoEditor.getValue()")
    await assert_accessible(page, context="rego editor with a compile error")
    await doc_shot(page, "policies-compile-error")


async def test_without_javascript_the_editor_is_a_textarea_and_the_error_names_the_line(
    browser: Any, console: Console
) -> None:
    context = await browser.new_context(base_url=console.url, java_script_enabled=False)
    try:
        await context.add_cookies(
            [
                {
                    "name": "egw_session",
                    "value": console.session_cookie("compliance"),
                    "domain": "127.0.0.1",
                    "path": "/ui",
                }
            ]
        )
        page = await context.new_page()
        await page.goto("/ui/policies")
        await page.get_by_role("button", name="Edit rules (Rego)").click()
        await page.get_by_role("link", name=FILE, exact=True).click()
        area = page.get_by_label(f"Source of {FILE}")
        source = await area.input_value()
        broken, bad_line = _break(source)
        await area.fill(broken)
        await page.get_by_role("button", name="Compile, test and save as a new draft").click()
        alert = page.locator("#compile-error")
        await alert.wait_for()
        assert f"line {bad_line}" in await alert.inner_text()
        marked = page.locator("#compile-error tr.line-error td.ln")
        assert await marked.inner_text() == str(bad_line)
        assert BROKEN in await area.input_value()
    finally:
        await context.close()
