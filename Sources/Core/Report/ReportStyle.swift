extension ReportAssets {
  /// The page's only style sheet: system fonts, tables, the heatmap's four shades and the flame
  /// graph's user (warm) and kernel (cool) frames.
  static let style = #"""
    body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; background: #fff; }
    h1 { font-size: 1.5em; } h2 { font-size: 1.25em; margin-top: 1.5em; } h3 { font-size: 1.1em; margin: 1.2em 0 .3em; }
    h4 { font-size: 1em; margin: .8em 0 .2em; color: #555; }
    table { border-collapse: collapse; margin: .4em 0; }
    th, td { padding: .15em .6em; border-bottom: 1px solid #ddd; text-align: left; vertical-align: top; }
    td.count, td.errors, td.number { text-align: right; font-variant-numeric: tabular-nums; }
    tr.key-row { cursor: pointer; } tr.key-row:hover { background: #f3f6fa; }
    .meta, .note { color: #555; } .facts { margin: .2em 0; }
    .verdict-slower { color: #b00020; font-weight: 600; } .verdict-faster { color: #0a7d32; font-weight: 600; }
    section.series { border-top: 1px solid #ccc; padding-top: .3em; }
    svg text { font: 11px system-ui, sans-serif; fill: #222; }
    .bar { fill: #4a78b5; } .on-cpu { fill: #e07b39; } .runnable { fill: #e8c547; } .blocked { fill: #4a78b5; }
    .h1 { fill: #fff3b0; } .h2 { fill: #fdc95c; } .h3 { fill: #f08a3c; } .h4 { fill: #c81d25; }
    .legend rect { stroke: #999; stroke-width: .5; } text.gap { fill: #888; }
    .flame-graph { width: 100%; max-width: 1200px; display: block; }
    .flame-graph g.frame { cursor: pointer; } .flame-graph g.frame:hover rect { stroke: #000; stroke-width: .5; }
    .u0 rect { fill: #e5533d; } .u1 rect { fill: #ec7f3c; } .u2 rect { fill: #f0a04b; } .u3 rect { fill: #e86a50; }
    .k0 rect { fill: #6fa8dc; } .k1 rect { fill: #8fbde3; } .k2 rect { fill: #5d9bd3; } .k3 rect { fill: #a4c8ea; }
    .root rect { fill: #bbb; }
    .flame-graph g.frame.match rect { fill: #d63bd6; }
    .controls { margin: .4em 0; display: flex; gap: .6em; align-items: center; flex-wrap: wrap; }
    .status { color: #555; }
    """#
}
