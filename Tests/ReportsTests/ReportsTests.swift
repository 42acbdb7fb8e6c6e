import Foundation
import Testing
import Analysis
@testable import Reports

@Suite struct FigureTests {
    @Test func escapingCoversMarkup() {
        #expect(escapeHTML("a<b & \"c\" 'd'>") == "a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;")
    }

    @Test func coordinatesAreCompact() {
        #expect(coordinate(3.0) == "3")
        #expect(coordinate(2.5) == "2.5")
        #expect(coordinate(-0.001) == "0")
        #expect(coordinate(.nan) == "0")
    }

    @Test func colorScaleEndsAndClamps() {
        let scale = ColorScale.sequential(low: 0, high: 1)
        #expect(scale.color(0) == "#440154")
        #expect(scale.color(1) == "#fde725")
        #expect(scale.color(-5) == scale.color(0))
        #expect(scale.color(7) == scale.color(1))
        #expect(scale.color(.nan) == "#999999")
        let diverging = ColorScale.diverging(limit: 2)
        #expect(diverging.color(0) == "#f7f7f7")
    }

    @Test func heatmapHasOneCellPerValueWithTooltips() {
        let map = Heatmap(values: [[0, 1, 2], [3, 4, 5]], rowLabels: ["a", "b"], columnLabels: ["x", "y", "z"],
                          rowTitle: "rows", columnTitle: "columns", colorTitle: "value")
        let svg = map.svg
        #expect(svg.components(separatedBy: "<title>").count - 1 == 6)
        #expect(svg.contains("<title>b · z: 5</title>"))
        #expect(svg.contains(">rows<") && svg.contains(">columns<") && svg.contains(">value<"))
        #expect(map.scale.high == 5)
    }

    @Test func barChartDrawsEveryBarAndALegend() {
        let chart = BarChart(categories: ["0", "1"], series: [Series(name: "p", values: [1, 2]), Series(name: "q", values: [0.5, -1])],
                             xTitle: "head", yTitle: "mass")
        let svg = chart.svg
        #expect(svg.components(separatedBy: "<rect").count - 1 == 4 + 2)
        #expect(svg.contains("q 1: -1<"))
    }

    @Test func barChartSkipsNonFiniteBars() {
        let chart = BarChart(categories: ["copies", "sums of three"], series: [Series(name: "8 nodes", values: [1, .nan])],
                             xTitle: "operands", yTitle: "accuracy")
        let svg = chart.svg
        #expect(svg.contains("8 nodes copies: 1<"))
        #expect(!svg.contains("sums of three:"))
        #expect(!svg.contains("nan"))
    }

    @Test func lineChartSkipsNonFinitePoints() {
        let chart = LineChart(x: [0, 1, 2], series: [Series(name: "a", values: [0, .nan, 1])], xTitle: "depth", yTitle: "accuracy")
        #expect(chart.svg.components(separatedBy: "<circle").count - 1 == 2)
    }
}

@Suite struct PageTests {
    @Test func pageIsSelfContained() {
        let view = AttentionViewData(sequences: [.init(title: "s</script>", tokens: ["x_1", "="], details: ["a", "b"],
                                                       patterns: [[[[1, 0, 0.5, 0.5]]]])],
                                     iterations: [0], heads: 1, layers: 1)
        let page = ReportPage(title: "T", subtitle: "S", sections: [
            ReportSection(id: "one", title: "One", blocks: [
                .figure(Heatmap(values: [[1]], rowLabels: ["r"], columnLabels: ["c"], rowTitle: "r", columnTitle: "c", colorTitle: "v").svg, caption: "cap <b>"),
                .html(view.html), .table(headers: ["a"], rows: [["1"]]), .numbers([("acc", "0.9")]),
            ]),
        ], warnings: ["incomplete dump"])
        let html = page.html
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("cap &lt;b&gt;"))
        #expect(html.contains("class=\"warning\">incomplete dump"))
        // No external resource: the only URL is the SVG namespace.
        let urls = html.components(separatedBy: "http").dropFirst().map { String($0.prefix(30)) }
        #expect(urls.allSatisfy { $0.hasPrefix("://www.w3.org/2000/svg") })
        #expect(!html.contains("s</script>"))
    }

    @Test func theModelCardLeadsWithTheModelItsVerdictAndAccuracyAndFoldsTheCommands() throws {
        let card = ModelCard(path: "models/m.h5", description: "m.h5: a recurrent transformer of 2 layers × 16 heads.",
                             configuration: [("layers × heads × head width", "2 × 16 × 16")], training: [("optimizer steps", "100")],
                             commands: ["lens train --out m.h5", "lens train --resume m.h5.resume.h5 --out m.h5"],
                             accuracy: [.init(nodes: 8, graphs: 10, nodeAccuracy: 0.9, graphAccuracy: 0.5, maxDepth: 3, byDepth: [1, 0.9, 0.8, 0.7])])
        let verdict = CircuitVerdict(evidence: CircuitEvidence(layer1MassOnValues: 0.67, layer0SlotCoverage: 2.0 / 3, layer0SlotsWithoutGroup: ["var_0"]))
        let content = ReportContent(command: "lens report", modelCard: card, summary: AnalysisSummary(circuit: verdict), attention: nil,
                                    neuronGrids: [], activationFiles: [], warnings: [])
        let html = AnalysisReport.page(content).html
        let start = try #require(html.range(of: "<section id=\"model\">"))
        let section = String(html[start.lowerBound..<(html.range(of: "</section>", range: start.upperBound..<html.endIndex)?.upperBound ?? html.endIndex)])
        func at(_ text: String) throws -> String.Index { try #require(section.range(of: text), "no \(text)").lowerBound }
        #expect(try at("a recurrent transformer") < at("paper circuit, partial: no layer-0 head group for var_0"))
        #expect(try at("paper circuit, partial") < at("node accuracy"))
        #expect(try at("node accuracy") < at("layers × heads"))
        #expect(try at("<details><summary>Training commands (2 invocations") < at("lens train --out m.h5"))
        #expect(try at("lens train --resume") < at("</details>"))
    }

    @Test func attentionPatternsRoundTripThroughBase64Bytes() throws {
        let view = AttentionViewData(sequences: [.init(title: "t", tokens: ["a", "b"], details: ["", ""],
                                                       patterns: [[[[1, 0, 0.5, 0.5]]]])],
                                     iterations: [3], heads: 1, layers: 1)
        let object = try JSONSerialization.jsonObject(with: Data(view.json.utf8)) as? [String: Any]
        let sequences = object?["sequences"] as? [[String: Any]]
        let encoded = ((sequences?.first?["patterns"] as? [[[String]]])?.first?.first?.first) ?? ""
        let bytes = [UInt8](Data(base64Encoded: encoded) ?? Data())
        #expect(bytes == [255, 0, 128, 128])
        #expect(object?["iterations"] as? [Int] == [3])
    }
}

@Suite struct NumberFormatTests {
    @Test func shortNumbersAndCellTexts() {
        #expect(shortNumber(3) == "3")
        #expect(shortNumber(0.1234) == "0.123")
        #expect(shortNumber(12.345) == "12.3")
        #expect(shortNumber(0.00001) == "1.00e-05")
        let map = Heatmap(values: [[0]], rowLabels: [], columnLabels: [], rowTitle: "", columnTitle: "", colorTitle: "")
        #expect(map.cellText(0.156) == ".16")
        #expect(map.cellText(1) == "1.00")
        #expect(map.cellText(-0.3) == "-.30")
        #expect(map.cellText(0.0001) == "0")
    }
}
