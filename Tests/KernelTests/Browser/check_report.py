"""Opens a bpfsyscalldist report in Debian's headless chromium (selenium, chromedriver) and checks
it against the recording it was made from, read here on its own (never through the page's data):

  check_report.py run PAGE RECORDING SCREENSHOT   numbers, heatmap columns, flame graph zoom, search
  check_report.py hostile PAGE SCREENSHOT COMM KEY  recorded strings are text: no alert, no element
  check_report.py compare PAGE COMPARE_JSON BEFORE AFTER SCREENSHOT  compare -j's verdicts and
                                                  bounds; each one-print run's percentiles its own

Every mode also fails on any console message and on any network request. Prints one line per
check passed; exits 1 naming the first that failed."""
import json, math, sys
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)
    print("ok: " + message)


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def open_page(driver, page):
    driver.get("file://" + page)
    check(driver.execute_script("return document.contentType") == "text/html", "the page is HTML")
    check(driver.execute_script("return document.querySelectorAll('#report section.run').length") > 0, "the page drew itself")
    messages = driver.get_log("browser")
    check(messages == [], "no console message: %s" % messages)
    requests = [json.loads(entry["message"])["message"] for entry in driver.get_log("performance")]
    urls = [r["params"]["request"]["url"] for r in requests if r["method"] == "Network.requestWillBeSent"]
    check(all(u == "file://" + page for u in urls), "no request but the page itself: %s" % urls)
    check(driver.execute_script("return performance.getEntriesByType('resource').length") == 0, "no resource loaded")
    check(driver.find_elements(By.TAG_NAME, "img") == [], "no img element")
    scripts = driver.find_elements(By.TAG_NAME, "script")
    check(len(scripts) == 2, "no script element but the page's two: %s" % [s.get_attribute("outerHTML")[:80] for s in scripts])


def read_lines(path):
    return [json.loads(line) for line in open(path) if line.strip()]


def percentile(buckets, count, low_min, high_max, fraction):
    """Nearest rank over merged buckets [(low_ns, high_ns or None, count)], cut to min and max."""
    rank = max(1, math.ceil(fraction * count))
    seen = 0
    for low, high, n in sorted(buckets):
        seen += n
        if seen >= rank:
            top = high if high is not None else 2**64 - 1
            return max(low, min(low_min, top)), min(top, max(high_max, low))


def bucket_ns(bucket, unit_ns):
    """A printed bucket's first and last ns."""
    if "low_ns" in bucket:
        return bucket["low_ns"], bucket["high_ns"]
    return bucket["low"] * unit_ns, None if bucket["high"] is None else (bucket["high"] + 1) * unit_ns - 1


UNIT_NS = {"ns": 1, "us": 1000, "ms": 1000000, "s": 1000000000}


def shown_bounds(text):
    """'2048.5 – 4095 us' as floats."""
    low, high = text.rsplit(" ", 1)[0].split(" – ")
    return float(low), float(high)


def mode_run(page, recording, screenshot):
    lines = read_lines(recording)
    prints = [l for l in lines if "type" not in l]
    slow = [l for l in lines if l.get("type") == "slow_call"]
    unit_ns = UNIT_NS[prints[0]["unit"]]
    driver = browser()
    try:
        open_page(driver, page)
        rows = driver.find_elements(By.CSS_SELECTOR, "section.run table.keys tr.key-row")
        titles = sorted({h["title"] for p in prints for h in p["histograms"]})
        check(sorted(r.find_element(By.CSS_SELECTOR, "td.title").text for r in rows) == titles, "a row per recorded series: %s" % titles)
        for row in rows:
            title = row.find_element(By.CSS_SELECTOR, "td.title").text
            series = [h for p in prints for h in p["histograms"] if h["title"] == title]
            count = sum(h["count"] for h in series)
            check(int(row.find_element(By.CSS_SELECTOR, "td.count").text) == count, "%s: %d calls, the recording's sum" % (title, count))
            merged = {}
            for h in series:
                for b in h["buckets"]:
                    low, high = bucket_ns(b, unit_ns)
                    merged[(low, high)] = merged.get((low, high), 0) + b["count"]
            low_min = min(h["min_ns"] for h in series if h["min_ns"] is not None)
            high_max = max(h["max_ns"] for h in series if h["max_ns"] is not None)
            for cell in row.find_elements(By.CSS_SELECTOR, "td.percentile"):
                name = cell.get_attribute("data-name")
                low, high = percentile([(l, h, n) for (l, h), n in merged.items()], count, low_min, high_max, int(name[1:]) / 100)
                check((int(cell.get_attribute("data-low-ns")), int(cell.get_attribute("data-high-ns"))) == (low, high), "%s %s: %d..%d ns" % (title, name, low, high))
                check(shown_bounds(cell.text) == (low / unit_ns, high / unit_ns), "%s %s shown as %s" % (title, name, cell.text))
        search = driver.find_element(By.CSS_SELECTOR, "input.key-filter")
        search.send_keys("no such key at all")
        check(driver.find_elements(By.CSS_SELECTOR, "tr.key-row") == [], "a filter that matches nothing shows no row")
        search.clear()
        search.send_keys(titles[0][2:-2])
        check(len(driver.find_elements(By.CSS_SELECTOR, "tr.key-row")) == 1, "one that matches a key shows its row")
        search.clear()
        search.send_keys(" ")
        search.send_keys("\b")
        rows = driver.find_elements(By.CSS_SELECTOR, "section.run table.keys tr.key-row")
        check(len(rows) == len(titles), "and an empty one every row again")
        section = driver.find_element(By.CSS_SELECTOR, "section.series")
        title = section.find_element(By.TAG_NAME, "h3").text
        series = [(i, h) for i, p in enumerate(prints) for h in p["histograms"] if h["title"] == title]
        columns = section.find_elements(By.CSS_SELECTOR, "svg.heatmap g.column")
        check(len(columns) == len(prints), "%s: a heatmap column per recorded interval (%d)" % (title, len(prints)))
        for index, column in enumerate(columns):
            shown = {int(r.get_attribute("data-low-ns")): int(r.get_attribute("data-count")) for r in column.find_elements(By.TAG_NAME, "rect")}
            recorded = {}
            for i, h in series:
                for b in h["buckets"] if i == index else []:
                    low = bucket_ns(b, unit_ns)[0]
                    recorded[low] = recorded.get(low, 0) + b["count"]
            if shown != recorded:
                fail("%s: interval %d shows %s, the recording %s" % (title, index, shown, recorded))
        print("ok: each heatmap cell is its print's bucket and count")
        merged = {}
        for _, h in series:
            for b in h["buckets"]:
                low = bucket_ns(b, unit_ns)[0]
                merged[low] = merged.get(low, 0) + b["count"]
        bars = {int(g.get_attribute("data-low-ns")): int(g.get_attribute("data-count")) for g in section.find_elements(By.CSS_SELECTOR, "svg.histogram g.bucket")}
        check(bars == merged, "%s: the histogram's bars are the recording's buckets merged" % title)
        facts = section.find_element(By.CSS_SELECTOR, "p.facts")
        check(int(facts.get_attribute("data-min-ns")) == min(h["min_ns"] for _, h in series), "the min is the recording's")
        check(int(facts.get_attribute("data-max-ns")) == max(h["max_ns"] for _, h in series), "the max is the recording's")
        check(int(facts.get_attribute("data-sum-ns")) == sum(h["sum_ns"] for _, h in series), "the sum is the recording's")
        errors = sum(sum(h["errors"].values()) for _, h in series)
        row = [r for r in rows if r.find_element(By.CSS_SELECTOR, "td.title").text == title][0]
        check(int(row.find_element(By.CSS_SELECTOR, "td.errors").text) == errors, "the failed calls are the recording's (%d)" % errors)
        sites = {}
        for _, h in series:
            for w in h.get("wait_sites") or []:
                blocked, count = sites.get(w["site"], (0, 0))
                sites[w["site"]] = (blocked + w["blocked_ns"], count + w["count"])
        shown = {r.find_element(By.TAG_NAME, "td").get_attribute("textContent"): (int(r.get_attribute("data-blocked-ns")), int(r.get_attribute("data-count"))) for r in section.find_elements(By.CSS_SELECTOR, "tr.wait-site")}
        check(shown == sites, "the wait sites are the recording's merged: %d" % len(sites))
        locks = {}
        for _, h in series:
            for w in h.get("lock_waits") or []:
                ns, count = locks.get(w["kind"], (0, 0))
                locks[w["kind"]] = (ns + w["ns"], count + w["count"])
        shown = {r.find_element(By.TAG_NAME, "td").get_attribute("textContent"): (int(r.get_attribute("data-ns")), int(r.get_attribute("data-count"))) for r in section.find_elements(By.CSS_SELECTOR, "tr.lock-wait")}
        check(shown == locks, "the waits for locks are the recording's merged: %d kinds" % len(locks))
        split = section.find_elements(By.CSS_SELECTOR, "div.time-split")
        if any(h["on_cpu_ns"] is not None for _, h in series):
            for field in ("on_cpu_ns", "runnable_ns", "blocked_ns"):
                recorded = sum(h[field] for _, h in series)
                check(int(split[0].get_attribute("data-" + field.replace("_", "-"))) == recorded, "%s: %s %d, the recording's sum" % (title, field, recorded))
        if slow:
            check(len(driver.find_elements(By.CSS_SELECTOR, "tr.slow-call")) == min(200, len(slow)), "a row per slow call (%d)" % len(slow))
            latencies = sorted((c["latency_ns"] for c in slow), reverse=True)[:200]
            shown = [int(td.get_attribute("data-ns")) for td in driver.find_elements(By.CSS_SELECTOR, "tr.slow-call td[data-ns]")]
            check(shown == latencies, "slow calls slowest first, their latencies the recording's")
            check_flame(driver, slow, slow[0]["comm"][:4], narrow=False, share="100.0%")
        driver.save_screenshot(screenshot)
    finally:
        driver.quit()


def check_flame(driver, calls, term, narrow, share):
    """The root weighs the calls, or their latency; a click zooms to a frame (one narrower than
    the graph where `narrow`), reset zooms out, search highlights the frames holding `term` and
    says their `share`. Nothing of it logs to the console."""
    graph = lambda: driver.find_element(By.CSS_SELECTOR, "svg.flame-graph")
    root = lambda: graph().find_element(By.CSS_SELECTOR, "g.frame[data-root]")
    check(int(root().get_attribute("data-value")) == len(calls), "the flame graph's root weighs every slow call (%d)" % len(calls))
    weight = driver.find_element(By.CSS_SELECTOR, ".flame select")
    weight.find_element(By.CSS_SELECTOR, "option[value=latency]").click()
    check(int(root().get_attribute("data-value")) == sum(c["latency_ns"] for c in calls), "weighted by latency: their latencies' sum")
    weight.find_element(By.CSS_SELECTOR, "option[value=calls]").click()
    width = lambda f: float(f.find_element(By.TAG_NAME, "rect").get_attribute("width"))
    frames = [f for f in graph().find_elements(By.CSS_SELECTOR, "g.frame") if f.get_attribute("data-root") is None and width(f) >= 30]
    narrower = [f for f in frames if width(f) < 1200]
    check(narrower or not narrow, "frames narrower than the graph")
    frame = max(narrower, key=width) if narrower else frames[-1]
    name, before = frame.get_attribute("data-name"), width(frame)
    frame.find_element(By.TAG_NAME, "rect").click()
    focus = driver.find_element(By.CSS_SELECTOR, "svg.flame-graph g.frame.focus")
    check(focus.get_attribute("data-name") == name, "a click zooms to the frame clicked (%s)" % name)
    check(width(focus) == 1200.0, "the frame zoomed to spans the graph (it was %.1f wide)" % before)
    driver.find_element(By.CSS_SELECTOR, "button.flame-reset").click()
    check(driver.find_element(By.CSS_SELECTOR, "svg.flame-graph g.frame.focus").get_attribute("data-name") == "all", "reset zooms out")
    driver.find_element(By.CSS_SELECTOR, "input.flame-search").send_keys(term)
    matched = graph().find_elements(By.CSS_SELECTOR, "g.frame.match")
    check(matched and all(term.lower() in m.get_attribute("data-name").lower() for m in matched), "search highlights the frames holding '%s'" % term)
    others = [f for f in graph().find_elements(By.CSS_SELECTOR, "g.frame:not(.match)") if term.lower() in f.get_attribute("data-name").lower() and f.get_attribute("data-root") is None]
    check(others == [], "and every frame holding it")
    status = driver.find_element(By.CSS_SELECTOR, ".flame .status").text
    check(status == "matched: %s of the calls" % share, "and says their share: %s" % status)
    check(driver.get_log("browser") == [], "no console message after the clicks and the search")


def mode_hostile(page, screenshot, comm, key):
    driver = browser()
    try:
        open_page(driver, page)
        try:
            driver.switch_to.alert
            fail("an alert opened")
        except NoAlertPresentException:
            print("ok: no alert")
        cells = [c.get_attribute("textContent") for c in driver.find_elements(By.CSS_SELECTOR, "tr.slow-call td.comm")]
        check(comm in cells, "the comm is shown as its text")
        check(key in [h.get_attribute("textContent") for h in driver.find_elements(By.CSS_SELECTOR, "section.series h3")], "the key is shown as its text")
        calls = [{"latency_ns": int(td.get_attribute("data-ns"))} for td in driver.find_elements(By.CSS_SELECTOR, "tr.slow-call td[data-ns]")]
        # 3 of the 5 calls are under read_loop (which holds vfs_read and ksys_read): 60%
        check_flame(driver, calls, "read", narrow=True, share="60.0%")
        driver.save_screenshot(screenshot)
    finally:
        driver.quit()


def mode_compare(page, comparison, before, after, screenshot):
    expected = json.load(open(comparison))
    runs = [read_lines(before), read_lines(after)]
    driver = browser()
    try:
        open_page(driver, page)
        rows = driver.find_elements(By.CSS_SELECTOR, "section.comparison tr.ab-row")
        check(len(rows) == len(expected["series"]), "a row per compared series")
        for row, series in zip(rows, expected["series"]):
            shown = {c.get_attribute("data-name"): c.get_attribute("data-verdict") for c in row.find_elements(By.CSS_SELECTOR, "td[data-verdict]")}
            check(shown == series["verdicts"], "%s: the verdicts are compare's %s" % (series["title"], series["verdicts"]))
            for cell in row.find_elements(By.CSS_SELECTOR, "td[data-verdict]"):
                name = cell.get_attribute("data-name")
                for side in ("before", "after"):
                    bounds = series[side][name]
                    check(cell.get_attribute("data-" + side) == "%d..%d" % (bounds["low_ns"], bounds["high_ns"]), "%s %s %s: compare's bounds" % (series["title"], name, side))
            check(row.find_element(By.CSS_SELECTOR, "td.counts").text == "%d → %d" % (series["before"]["count"], series["after"]["count"]), "the counts are compare's")
        sections = driver.find_elements(By.CSS_SELECTOR, "section.run")
        check(len(sections) == 2, "both runs are shown")
        for section, lines in zip(sections, runs):
            prints = [l for l in lines if "type" not in l]
            check(len(prints) == 1, "a run of one print")
            for histogram in prints[0]["histograms"]:
                row = [r for r in section.find_elements(By.CSS_SELECTOR, "tr.key-row") if r.find_element(By.CSS_SELECTOR, "td.title").text == histogram["title"]][0]
                for name, bounds in histogram["percentiles"].items():
                    cell = row.find_element(By.CSS_SELECTOR, "td.percentile[data-name=%s]" % name)
                    check(shown_bounds(cell.text) == (float(bounds["low"]), float(bounds["high"])), "%s %s equals the print's own %s" % (histogram["title"], name, bounds))
        driver.save_screenshot(screenshot)
    finally:
        driver.quit()


if __name__ == "__main__":
    {"run": mode_run, "hostile": mode_hostile, "compare": mode_compare}[sys.argv[1]](*sys.argv[2:])
