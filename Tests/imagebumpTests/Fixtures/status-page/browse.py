#!/usr/bin/env python3
"""Drives imagebump's status page in headless Chromium (Debian's, with its chromedriver), as an
operator would: reads the environment matrix, approves a manual gate with the admin token,
retries a failed event (first with a wrong token), opens the event's page. Saves a screenshot.

  browse.py ADMIN_URL TOKEN SCREENSHOT

Exits 1 with the failed expectation (and the page's text) when something is not as expected.
"""
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

admin, token, screenshot = sys.argv[1:4]

options = Options()
options.binary_location = "/usr/bin/chromium"
for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000", "--disable-gpu"):
    options.add_argument(argument)
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
driver.set_page_load_timeout(20)


def expect(condition, message):
    if not condition:
        raise SystemExit(f"expectation failed: {message}\n--- page {driver.current_url} ---\n{driver.find_element(By.TAG_NAME, 'body').text}")


def replaced(element):
    """Whether the page holding `element` is gone. Chromium says so with a stale-element error,
    or, when the new document arrived mid-question, with an inspector error naming a node that
    "does not belong to the document" (`expected_conditions.staleness_of` lets that one through)."""
    try:
        element.is_enabled()
        return False
    except WebDriverException:
        return True


def submit(button_id):
    """Clicks a form's button and waits (at most 10 s) until the answer's page replaced this one."""
    page = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.ID, button_id).click()
    WebDriverWait(driver, 10).until(lambda d: replaced(page))
    WebDriverWait(driver, 10).until(lambda d: d.execute_script("return document.readyState") == "complete")


def cell(image, target):
    return driver.find_element(By.CSS_SELECTOR, f'tr[data-image="{image}"] td[data-target="{target}"]').text


def eventually(check, message, seconds=30):
    deadline = time.monotonic() + seconds
    while True:
        driver.get(admin + "/")
        if check():
            return
        if time.monotonic() > deadline:
            expect(False, message)
        time.sleep(0.2)


try:
    driver.get(admin + "/")
    expect(driver.title == "imagebump status", "the page's title")
    # The matrix: dev and acc run 1.4.2; acc's promotion waits for approval; prd has nothing yet.
    expect("1.4.2" in cell("ghcr.io/acme/api", "dev"), "dev runs 1.4.2")
    expect("waiting-for-approval" in cell("ghcr.io/acme/api", "acc"), "acc shows the promotion waiting for approval")
    expect("not written yet" in cell("ghcr.io/acme/api", "prd"), "prd has nothing yet")
    failed = driver.find_elements(By.CSS_SELECTOR, "#failed tr[data-event]")
    expect(len(failed) == 1, "one failed event listed")
    failed_id = failed[0].get_attribute("data-event")
    approvals = driver.find_elements(By.CSS_SELECTOR, "#approvals tr[data-promotion]")
    expect(len(approvals) == 1, "one promotion waiting for approval")
    promotion = approvals[0].get_attribute("data-promotion")
    driver.save_screenshot(screenshot)

    # Approve with the token: back on the page, told so; prd gets 1.4.2.
    driver.find_element(By.CSS_SELECTOR, f'tr[data-promotion="{promotion}"] input[name="token"]').send_keys(token)
    submit(f"approve-{promotion}")
    expect(driver.find_element(By.ID, "notice").text == f"Promotion {promotion} is approved and moves on.", "the approval notice")
    expect("token" not in driver.current_url, "no token in the URL")
    eventually(lambda: "1.4.2" in cell("ghcr.io/acme/api", "prd"), "prd runs 1.4.2 after the approval")
    expect(not driver.find_elements(By.CSS_SELECTOR, "#approvals tr[data-promotion]"), "nothing waits for approval any more")

    # Retry with a wrong token: refused, said why.
    driver.find_element(By.CSS_SELECTOR, f'#failed tr[data-event="{failed_id}"] input[name="token"]').send_keys("not-the-token")
    submit(f"retry-{failed_id}")
    expect("send the admin token" in driver.find_element(By.ID, "refusal").text, "a wrong token is refused")
    # With the right one: queued again, and its page shows the request.
    driver.get(admin + "/")
    driver.find_element(By.CSS_SELECTOR, f'#failed tr[data-event="{failed_id}"] input[name="token"]').send_keys(token)
    submit(f"retry-{failed_id}")
    expect(driver.find_element(By.ID, "notice").text == f"Event {failed_id} runs again.", "the retry notice")
    driver.get(f"{admin}/ui/events/{failed_id}")
    steps = driver.find_element(By.ID, "steps").text
    expect("retry requested" in steps, "the event's page shows the retry")
    # The filter: failed events of the worker image only.
    driver.get(admin + "/")
    driver.find_element(By.CSS_SELECTOR, 'select[name="status"] option[value=""]')
    driver.get(admin + "/?status=done")
    statuses = [row.find_elements(By.TAG_NAME, "td")[4].text for row in driver.find_elements(By.CSS_SELECTOR, "#events tr[data-event]")]
    expect(statuses and all(status == "done" for status in statuses), f"the status filter shows done events only: {statuses}")
    print("status page: matrix, approve, retry, event page and filter as expected")
finally:
    driver.quit()
