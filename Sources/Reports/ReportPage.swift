import Foundation

/// One piece of a report section.
public enum ReportBlock: Sendable {
    /// An SVG (or HTML) figure with a caption saying what it shows and what the paper found.
    case figure(String, caption: String)
    case paragraph(String)
    /// A table with a header row; cells are plain text.
    case table(headers: [String], rows: [[String]])
    /// Headline numbers as name → value pairs.
    case numbers([(String, String)])
    /// Trusted HTML made by this module (the attention view).
    case html(String)
    /// A highlighted warning.
    case warning(String)
    /// Blocks folded away under a one-line summary (an HTML `<details>` element).
    case details(summary: String, blocks: [ReportBlock])
}

/// A titled section of the report.
public struct ReportSection: Sendable {
    public var id: String
    public var title: String
    public var blocks: [ReportBlock]
    public init(id: String, title: String, blocks: [ReportBlock]) {
        self.id = id
        self.title = title
        self.blocks = blocks
    }
}

/// A self-contained HTML report: inline CSS, SVG and script, no external URL.
public struct ReportPage: Sendable {
    public var title: String
    public var subtitle: String
    public var sections: [ReportSection]
    /// Shown at the top in red (an incomplete activation file, a missing analysis).
    public var warnings: [String]

    public init(title: String, subtitle: String, sections: [ReportSection], warnings: [String] = []) {
        self.title = title
        self.subtitle = subtitle
        self.sections = sections
        self.warnings = warnings
    }

    static let style = """
    body{font:14px/1.45 -apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:0;color:#222;background:#fafafa}
    header{background:#1f3a5f;color:#fff;padding:18px 28px}header h1{margin:0;font-size:22px}header p{margin:4px 0 0;opacity:.85}
    nav{padding:8px 28px;background:#e8edf3;font-size:13px}nav a{margin-right:14px;color:#1f3a5f}
    main{padding:8px 28px 40px;max-width:1200px}section{background:#fff;border:1px solid #e2e2e2;border-radius:6px;padding:14px 18px;margin:16px 0}
    h2{font-size:18px;margin:4px 0 10px;color:#1f3a5f}figure{display:inline-block;margin:8px 18px 12px 0;vertical-align:top;max-width:100%;overflow-x:auto}
    figcaption{font-size:12px;color:#555;max-width:560px;margin-top:4px}table{border-collapse:collapse;margin:8px 0;font-size:13px}
    td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}th{background:#f0f3f7}
    .numbers{display:flex;flex-wrap:wrap;gap:10px;margin:8px 0}.numbers div{background:#f0f3f7;border-radius:5px;padding:6px 12px}
    .numbers b{display:block;font-size:18px;color:#1f3a5f}.warning{background:#fde8e8;border:1px solid #e0a0a0;color:#8a1c1c;padding:8px 12px;border-radius:5px;margin:8px 0}
    .controls{margin:6px 0;font-size:13px}.controls label{margin-right:12px}.hint{color:#777;font-size:12px}
    svg text{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif}.tok{cursor:pointer}
    details{margin:8px 0}summary{cursor:pointer;color:#1f3a5f}
    """

    /// The whole document.
    public var html: String {
        var s = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>\(escapeHTML(title))</title><style>\(ReportPage.style)</style></head><body>"
        s += "<header><h1>\(escapeHTML(title))</h1><p>\(escapeHTML(subtitle))</p></header>"
        s += "<nav>" + sections.map { "<a href=\"#\(escapeHTML($0.id))\">\(escapeHTML($0.title))</a>" }.joined() + "</nav><main>"
        for warning in warnings { s += "<div class=\"warning\">\(escapeHTML(warning))</div>" }
        for section in sections {
            s += "<section id=\"\(escapeHTML(section.id))\"><h2>\(escapeHTML(section.title))</h2>"
            for block in section.blocks { s += render(block) }
            s += "</section>"
        }
        return s + "</main></body></html>\n"
    }

    func render(_ block: ReportBlock) -> String {
        switch block {
        case .figure(let svg, let caption):
            return "<figure>\(svg)<figcaption>\(escapeHTML(caption))</figcaption></figure>"
        case .paragraph(let text):
            return "<p>\(escapeHTML(text))</p>"
        case .table(let headers, let rows):
            let head = "<tr>" + headers.map { "<th>\(escapeHTML($0))</th>" }.joined() + "</tr>"
            let body = rows.map { "<tr>" + $0.map { "<td>\(escapeHTML($0))</td>" }.joined() + "</tr>" }.joined()
            return "<table>\(head)\(body)</table>"
        case .numbers(let pairs):
            return "<div class=\"numbers\">" + pairs.map { "<div><b>\(escapeHTML($0.1))</b>\(escapeHTML($0.0))</div>" }.joined() + "</div>"
        case .html(let html):
            return html
        case .warning(let text):
            return "<div class=\"warning\">\(escapeHTML(text))</div>"
        case .details(let summary, let blocks):
            return "<details><summary>\(escapeHTML(summary))</summary>" + blocks.map(render).joined() + "</details>"
        }
    }
}
