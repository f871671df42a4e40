/// The page's inline script and style, as the page embeds them.
enum ReportAssets {
  /// Draws the page from the embedded JSON: every recorded string enters the page as text
  /// (`textContent`, attributes), never as markup.
  static let script = #"""
    "use strict";
    (() => {
    const data = JSON.parse(document.getElementById("report-data").textContent);
    const main = document.getElementById("report");
    const SVG = "http://www.w3.org/2000/svg";
    function make(ns, tag, attrs, children) {
      const e = ns ? document.createElementNS(ns, tag) : document.createElement(tag);
      for (const [k, v] of Object.entries(attrs || {})) if (v != null) e.setAttribute(k, String(v));
      for (const c of children) if (c != null) e.append(c);
      return e;
    }
    const h = (tag, attrs, ...children) => make(null, tag, attrs, children);
    const s = (tag, attrs, ...children) => make(SVG, tag, attrs, children);
    // times in the run's unit, with every digit the ns give
    const inUnit = (ns, run) => ns == null ? "–" : String(ns / run.unit_ns) + " " + run.unit;
    const range = (low, high, run) => String(low / run.unit_ns) + " – " + (high == null ? "∞" : String(high / run.unit_ns)) + " " + run.unit;
    const share = (part, whole) => whole > 0 ? (100 * part / whole).toFixed(1) + "%" : "–";
    const clock = (t) => { const d = new Date(t * 1000); return d.toLocaleTimeString("en-GB", {hour12: false}) + "." + String(d.getMilliseconds()).padStart(3, "0"); };
    // the largest of many numbers (spreading them into Math.max fails past ~100k)
    const largest = (values) => values.reduce((a, b) => b > a ? b : a, 0);
    const percentileCell = (p, run) => p ? h("td", {class: "percentile", "data-name": p.name, "data-low-ns": p.low_ns, "data-high-ns": p.high_ns}, range(p.low_ns, p.high_ns, run)) : h("td", {}, "–");

    function splitText(split) {
      const total = split.on_cpu_ns + split.runnable_ns + split.blocked_ns;
      return `time in calls: ${share(split.on_cpu_ns, total)} on CPU, ${share(split.runnable_ns, total)} waiting for a CPU, ${share(split.blocked_ns, total)} blocked`;
    }

    function splitBar(split, run) {
      const total = split.on_cpu_ns + split.runnable_ns + split.blocked_ns, width = 480;
      const svg = s("svg", {class: "split", width, height: 14, role: "img"});
      let x = 0;
      for (const [part, cls, name] of [[split.on_cpu_ns, "on-cpu", "on CPU"], [split.runnable_ns, "runnable", "waiting for a CPU"], [split.blocked_ns, "blocked", "blocked"]]) {
        const w = total > 0 ? part / total * width : 0;
        svg.append(s("rect", {class: cls, x, width: w, height: 14}, s("title", {}, `${name}: ${inUnit(part, run)}`)));
        x += w;
      }
      return h("div", {class: "time-split", "data-on-cpu-ns": split.on_cpu_ns, "data-runnable-ns": split.runnable_ns, "data-blocked-ns": split.blocked_ns}, svg, h("div", {}, splitText(split)));
    }

    function histogram(series, run) {
      const row = 16, label = 220, width = 420, most = largest(series.buckets.map(b => b.count));
      const svg = s("svg", {class: "histogram", width: label + width + 80, height: row * series.buckets.length});
      series.buckets.forEach((b, i) => {
        const g = s("g", {class: "bucket", "data-low-ns": b.low_ns, "data-high-ns": b.high_ns, "data-count": b.count, transform: `translate(0,${i * row})`});
        g.append(s("text", {x: label - 6, y: row - 4, "text-anchor": "end"}, range(b.low_ns, b.high_ns, run)));
        g.append(s("rect", {class: "bar", x: label, y: 2, width: Math.max(1, b.count / most * width), height: row - 4}));
        g.append(s("text", {x: label + b.count / most * width + 6, y: row - 4}, String(b.count)));
        svg.append(g);
      });
      return svg;
    }

    // Brendan Gregg's latency heatmap: a column per interval, a row per bucket (longest on top),
    // four shades on a logarithmic scale up to the fullest cell
    function heatmap(series, run) {
      const columns = run.timestamps.length, rows = series.buckets.length, label = 220;
      const cell = Math.max(2, Math.min(14, Math.floor(720 / Math.max(1, columns)))), height = 12;
      const most = largest(series.heat.map(c => c[2]));
      const ceilings = [1, 2, 3, 4].map(k => k === 4 ? most : Math.max(1, Math.floor(Math.pow(most, k / 4))));
      const level = (n) => { const c = ceilings.find(x => n <= x) ?? ceilings[3]; return ceilings.lastIndexOf(c) + 1; };
      const svg = s("svg", {class: "heatmap", width: label + columns * cell + 4, height: rows * height + 4, "data-columns": columns});
      series.buckets.forEach((b, i) => {
        svg.append(s("text", {x: label - 6, y: (rows - i) * height - 2, "text-anchor": "end"}, range(b.low_ns, b.high_ns, run)));
        // buckets between that held no call are not drawn: mark where rows skip them
        const next = series.buckets[i + 1];
        if (next && b.high_ns != null && next.low_ns !== b.high_ns + 1) svg.append(s("text", {class: "gap", x: label + 2, y: (rows - 1 - i) * height + 3}, "⋮"));
      });
      const groups = run.timestamps.map((t, c) => s("g", {class: "column", "data-index": c, "data-time": t, transform: `translate(${label + c * cell},0)`}));
      for (const [c, b, n] of series.heat) {
        const bucket = series.buckets[b];
        groups[c].append(s("rect", {class: "h" + level(n), y: (rows - 1 - b) * height, width: cell, height, "data-count": n, "data-low-ns": bucket.low_ns},
          s("title", {}, `${clock(run.timestamps[c])}: ${n} calls in ${range(bucket.low_ns, bucket.high_ns, run)}`)));
      }
      svg.append(...groups);
      const legend = h("div", {class: "legend note"}, "calls per cell:");
      let low = 1;
      ceilings.forEach((high, k) => {
        if (high < low || most === 0) return;
        legend.append(" ", s("svg", {width: 12, height: 12}, s("rect", {class: "h" + level(high), width: 12, height: 12})), ` ${low === high ? low : low + "–" + high}`);
        low = high + 1;
      });
      return h("div", {}, svg, legend, h("div", {class: "note"}, "rows: latency; columns: intervals, oldest first"));
    }

    function seriesSection(run, r, series, i) {
      const section = h("section", {class: "series", id: `run${r}-series${i}`, "data-series": i});
      section.append(h("h3", {}, series.title));
      section.append(h("p", {class: "facts", "data-min-ns": series.min_ns, "data-max-ns": series.max_ns, "data-sum-ns": series.sum_ns}, `${series.count} calls, ${series.errors} failed; min ${inUnit(series.min_ns, run)}, max ${inUnit(series.max_ns, run)}, sum ${inUnit(series.sum_ns, run)}`));
      if (series.time_split) section.append(splitBar(series.time_split, run));
      if (series.wait_sites.length) {
        const table = h("table", {class: "wait-sites"}, h("tr", {}, h("th", {}, "blocked at"), h("th", {}, "blocked"), h("th", {}, "times"), h("th", {}, "share")));
        const blocked = series.time_split ? series.time_split.blocked_ns : 0;
        for (const w of series.wait_sites) table.append(h("tr", {class: "wait-site", "data-blocked-ns": w.blocked_ns, "data-count": w.count}, h("td", {}, w.site), h("td", {class: "number"}, inUnit(w.blocked_ns, run)), h("td", {class: "number"}, String(w.count)), h("td", {class: "number"}, share(w.blocked_ns, blocked))));
        section.append(h("h4", {}, "Where they blocked"), table);
      }
      if (series.lock_waits.length) {
        const table = h("table", {class: "lock-waits"}, h("tr", {}, h("th", {}, "lock kind"), h("th", {}, "waited"), h("th", {}, "times")));
        for (const w of series.lock_waits) table.append(h("tr", {class: "lock-wait", "data-ns": w.blocked_ns, "data-count": w.count}, h("td", {}, w.site), h("td", {class: "number"}, inUnit(w.blocked_ns, run)), h("td", {class: "number"}, String(w.count))));
        section.append(h("h4", {}, "Waited for locks"), table);
      }
      section.append(h("h4", {}, "Distribution"), histogram(series, run));
      section.append(h("h4", {}, `Over time: ${run.timestamps.length} intervals`), heatmap(series, run));
      return section;
    }

    // every series' row, the 200 with the most calls at first (a page of 10,000 keys opens in
    // time, and nobody reads 10,000 rows): a filter finds any other by its name
    function keysTable(run, r, details) {
      const shown = 200;
      const table = h("table", {class: "keys"}, h("thead", {}, h("tr", {}, ...[run.key_label, "calls", "errors", "p50", "p90", "p99", "time split"].map(t => h("th", {}, t)))));
      const body = h("tbody");
      const note = h("span", {class: "status"});
      const filter = h("input", {type: "search", class: "key-filter", placeholder: `find a ${run.key_label}`, "aria-label": "find a key"});
      const row = (series, i) => h("tr", {class: "key-row", "data-series": i, tabindex: 0, title: "show its distribution and heatmap"},
        h("td", {class: "title"}, series.title), h("td", {class: "count"}, String(series.count)), h("td", {class: "errors"}, String(series.errors)),
        ...["p50", "p90", "p99"].map(name => percentileCell(series.percentiles.find(p => p.name === name), run)),
        h("td", {}, series.time_split ? splitText(series.time_split).replace("time in calls: ", "") : "–"));
      const fill = () => {
        const term = filter.value.toLowerCase();
        const matching = [];
        run.series.forEach((series, i) => { if (!term || series.title.toLowerCase().includes(term)) matching.push(i); });
        body.replaceChildren(...matching.slice(0, shown).map(i => row(run.series[i], i)));
        note.textContent = matching.length > shown ? `the ${shown} with the most calls of ${matching.length}` : `${matching.length} of ${run.series.length}`;
      };
      const show = (event) => {
        const tr = event.target.closest("tr.key-row");
        if (!tr) return;
        const i = Number(tr.dataset.series);
        let section = document.getElementById(`run${r}-series${i}`);
        if (!section) { section = seriesSection(run, r, run.series[i], i); details.append(section); }
        section.scrollIntoView();
      };
      body.addEventListener("click", show);
      body.addEventListener("keydown", e => { if (e.key === "Enter") show(e); });
      filter.addEventListener("input", fill);
      fill();
      table.append(body);
      return h("div", {}, h("div", {class: "controls"}, filter, note), table);
    }

    // slow calls' stacks as a flame graph (outermost at the bottom): click a frame to zoom to it,
    // search to highlight frames whose name holds the text
    function flameGraph(calls, run) {
      const width = 1200, row = 17;
      const weight = h("select", {"aria-label": "weight"}, h("option", {value: "calls"}, "weighted by calls"), h("option", {value: "latency"}, "weighted by latency"), h("option", {value: "blocked"}, "weighted by time blocked (off CPU without --off-cpu)"));
      const search = h("input", {type: "search", class: "flame-search", placeholder: "search frames", "aria-label": "search frames"});
      const reset = h("button", {type: "button", class: "flame-reset"}, "reset zoom");
      const status = h("span", {class: "status"});
      const svg = s("svg", {class: "flame-graph", width, "preserveAspectRatio": "none"});
      let root, focus;
      const amount = (v) => weight.value === "calls" ? `${v} calls` : inUnit(v, run);
      // blocked: with --off-cpu the call's blocked time, else its time off CPU
      const weigh = (call) => weight.value === "calls" ? 1 : weight.value === "latency" ? call.latency_ns : (call.blocked_ns ?? call.off_cpu_ns);
      function build() {
        root = {name: "all", value: 0, children: new Map(), parent: null};
        for (const call of calls) {
          const w = weigh(call);
          let n = root;
          n.value += w;
          for (const f of call.frames) {
            let child = n.children.get(f);
            if (!child) { child = {name: f, value: 0, children: new Map(), parent: n}; n.children.set(f, child); }
            child.value += w;
            n = child;
          }
        }
        focus = root;
      }
      const colour = (n) => {
        if (n === root) return "root";
        let hash = 0;
        for (const ch of n.name) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
        return (n.name.endsWith("_[k]") ? "k" : "u") + (hash % 4);
      };
      const fit = (name, w) => { const most = Math.floor((w - 6) / 6.5); return name.length <= most ? name : name.slice(0, Math.max(0, most - 1)) + "…"; };
      function draw() {
        const placed = [];
        const chain = [];
        for (let n = focus; n; n = n.parent) chain.unshift(n);
        chain.forEach((n, depth) => placed.push([n, 0, width, depth]));
        const lay = (n, x, depth) => {
          for (const child of [...n.children.values()].sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) {
            const w = child.value / focus.value * width;
            if (w >= 0.5) { placed.push([child, x, w, depth]); lay(child, x, depth + 1); }
            x += w;
          }
        };
        lay(focus, 0, chain.length);
        const depth = largest(placed.map(p => p[3])) + 1;
        svg.replaceChildren();
        svg.setAttribute("height", depth * row);
        svg.setAttribute("viewBox", `0 0 ${width} ${depth * row}`);
        for (const [n, x, w, d] of placed) {
          const g = s("g", {class: "frame " + colour(n) + (n === focus ? " focus" : ""), "data-name": n.name, "data-root": n === root ? "" : null, "data-value": n.value, transform: `translate(${x},${(depth - 1 - d) * row})`},
            s("rect", {width: w, height: row - 1}), s("title", {}, `${n.name}: ${amount(n.value)}, ${share(n.value, root.value)}`));
          if (w > 24) g.append(s("text", {x: 3, y: row - 5}, fit(n.name, w)));
          g.addEventListener("click", () => { focus = n; draw(); });
          svg.append(g);
        }
        highlight();
      }
      function highlight() {
        const term = search.value.toLowerCase();
        let matched = 0;
        const walk = (n, inside) => {
          const hit = term !== "" && n !== root && n.name.toLowerCase().includes(term);
          if (hit && !inside) matched += n.value;
          for (const child of n.children.values()) walk(child, inside || hit);
        };
        walk(root, false);
        for (const g of svg.querySelectorAll("g.frame")) g.classList.toggle("match", term !== "" && g.dataset.root === undefined && g.dataset.name.toLowerCase().includes(term));
        status.textContent = term ? `matched: ${share(matched, root.value)} of the ${{calls: "calls", latency: "latency", blocked: "time blocked"}[weight.value]}` : "";
      }
      weight.addEventListener("change", () => { build(); draw(); });
      search.addEventListener("input", highlight);
      reset.addEventListener("click", () => { focus = root; draw(); });
      build();
      draw();
      return h("div", {class: "flame"}, h("div", {class: "controls"}, weight, search, reset, status), svg);
    }

    function slowCalls(run) {
      const calls = run.slow_calls;
      const section = h("section", {class: "slow-calls"}, h("h3", {}, `Slow calls: ${calls.length}`));
      section.append(flameGraph(calls, run));
      const slowest = [...calls].sort((a, b) => b.latency_ns - a.latency_ns).slice(0, 200);
      const table = h("table", {class: "slow"}, h("tr", {}, ...["ended", "comm", "pid", "tid", run.key_label, "outcome", "latency", "off CPU", "waiting for a CPU", "blocked"].map(t => h("th", {}, t))));
      for (const c of slowest) {
        table.append(h("tr", {class: "slow-call"}, h("td", {}, clock(c.time)), h("td", {class: "comm"}, c.comm), h("td", {class: "number"}, String(c.pid)), h("td", {class: "number"}, String(c.tid)),
          h("td", {}, c.key), h("td", {}, c.outcome), h("td", {class: "number", "data-ns": c.latency_ns}, inUnit(c.latency_ns, run)), h("td", {class: "number"}, inUnit(c.off_cpu_ns, run)),
          h("td", {class: "number"}, inUnit(c.runnable_ns, run)), h("td", {class: "number"}, inUnit(c.blocked_ns, run))));
      }
      section.append(h("h4", {}, slowest.length < calls.length ? `The ${slowest.length} slowest of ${calls.length}` : "Each call"), table);
      return section;
    }

    function comparison(c, run) {
      const section = h("section", {class: "comparison"}, h("h2", {}, "Before and after"), h("p", {class: "meta"}, `${c.before} → ${c.after}: a percentile is slower or faster only where the two runs' bounds do not overlap`));
      const table = h("table", {class: "ab"}, h("tr", {}, ...[c.key_label, "calls", "errors", "p50", "p90", "p99"].map(t => h("th", {}, t))));
      for (const row of c.series) {
        table.append(h("tr", {class: "ab-row"}, h("td", {}, row.title), h("td", {class: "number counts"}, `${row.before.count} → ${row.after.count}`), h("td", {class: "number errors"}, `${row.before.errors} → ${row.after.errors}`),
          ...["p50", "p90", "p99"].map(name => {
            const [b, a, verdict] = [row.before[name], row.after[name], row.verdicts[name]];
            if (!b || !a) return h("td", {}, "–");
            return h("td", {"data-name": name, "data-verdict": verdict, "data-before": `${b.low_ns}..${b.high_ns}`, "data-after": `${a.low_ns}..${a.high_ns}`}, `${range(b.low_ns, b.high_ns, run)} → ${range(a.low_ns, a.high_ns, run)} `, h("span", {class: "verdict-" + verdict.split(" ")[0]}, verdict));
          })));
      }
      section.append(table);
      for (const [list, label] of [[c.only_before, "only before"], [c.only_after, "only after"]]) {
        if (list.length) section.append(h("p", {class: "note"}, `${label}: ` + list.map(n => n.outcome == null ? n.key : `${n.key} outcome(${n.outcome})`).join(", ")));
      }
      return section;
    }

    main.append(h("h1", {}, "bpfsyscalldist report"));
    if (data.comparison) main.append(comparison(data.comparison, data.runs[0]));
    data.runs.forEach((run, r) => {
      const section = h("section", {class: "run", "data-run": r});
      const times = run.timestamps.filter(t => t > 0);
      section.append(h("h2", {}, (data.runs.length > 1 ? (r === 0 ? "Before: " : "After: ") : "") + `profile ${run.profile}`));
      section.append(h("p", {class: "meta"}, `${run.file}: ${run.timestamps.length} ${run.timestamps.length === 1 ? "print" : "prints"}` + (times.length ? ` from ${clock(times[0])} to ${clock(times[times.length - 1])}` : "") + `, ${run.buckets} buckets in ${run.unit}, one histogram per ${run.key_label}. Click a key for its distribution and heatmap.`));
      const details = h("div", {class: "details"});
      section.append(keysTable(run, r, details), details);
      run.series.slice(0, 8).forEach((series, i) => details.append(seriesSection(run, r, series, i)));
      if (run.slow_calls.length) section.append(slowCalls(run));
      main.append(section);
    });
    main.append(h("p", {class: "note"}, `Made by ${data.generator}. Every number here is read from the recorded JSON this page embeds (the element report-data).`));
    })();
    """#
}
