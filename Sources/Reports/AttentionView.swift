import Foundation

/// Attention patterns of a few sequences, ready for the report's interactive head view.
public struct AttentionViewData: Sendable {
    /// One probe sequence: its token labels and patterns per layer, iteration and head.
    public struct Sequence: Sendable {
        public var title: String
        /// One label per token, e.g. "x_42", "=", "17", "+"; the factor values go in `details`.
        public var tokens: [String]
        /// Hover text per token (all factor ids).
        public var details: [String]
        /// patterns[layer][iterationIndex][head] is a row-major [L, L] matrix (query rows, key columns).
        public var patterns: [[[[Float]]]]
        public init(title: String, tokens: [String], details: [String], patterns: [[[[Float]]]]) {
            self.title = title
            self.tokens = tokens
            self.details = details
            self.patterns = patterns
        }
    }
    public var sequences: [Sequence]
    /// The model iteration each iteration index stands for.
    public var iterations: [Int]
    public var heads: Int
    public var layers: Int
    public init(sequences: [Sequence], iterations: [Int], heads: Int, layers: Int) {
        self.sequences = sequences
        self.iterations = iterations
        self.heads = heads
        self.layers = layers
    }

    /// The data as compact JSON: patterns quantised to bytes (0–255) and base64-encoded per head.
    var json: String {
        struct Encoded: Encodable {
            let title: String, tokens: [String], details: [String], length: Int
            let patterns: [[[String]]]
        }
        struct Root: Encodable {
            let iterations: [Int], heads: Int, layers: Int, sequences: [Encoded]
        }
        let encoded = sequences.map { s in
            Encoded(title: s.title, tokens: s.tokens, details: s.details, length: s.tokens.count,
                    patterns: s.patterns.map { layer in layer.map { iteration in iteration.map { head in
                        Data(head.map { UInt8((min(max($0, 0), 1) * 255).rounded()) }).base64EncodedString()
                    } } })
        }
        let root = Root(iterations: iterations, heads: heads, layers: layers, sequences: encoded)
        // Sorted keys: the same activation files give the same page, byte for byte.
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let data = (try? encoder.encode(root)) ?? Data("{}".utf8)
        // "</" inside a <script> block would end it early.
        return String(decoding: data, as: UTF8.self).replacingOccurrences(of: "</", with: "<\\/")
    }

    /// The head view: controls, the token columns with attention lines, and its script.
    public var html: String {
        """
        <div class="attention-view" id="attention-view">
          <div class="controls">
            <label>sequence <select id="av-seq"></select></label>
            <label>layer <select id="av-layer"></select></label>
            <label>iteration <select id="av-iter"></select></label>
            <label>head <select id="av-head"></select></label>
            <span class="hint">Hover a token on the left (query) to see what it attends to; hover one on the right (key) to see who reads it. Line opacity = attention weight.</span>
          </div>
          <svg id="av-svg" xmlns="http://www.w3.org/2000/svg" width="640" height="200"></svg>
        </div>
        <script>
        (function() {
          const data = \(json);
          const $ = (id) => document.getElementById(id);
          const colors = ["#0072b2","#e69f00","#009e73","#cc79a7","#56b4e9","#d55e00","#8c6d31","#000000"];
          function fill(select, items) { select.innerHTML = items.map((t, i) => `<option value="${i}">${t}</option>`).join(""); }
          fill($("av-seq"), data.sequences.map(s => s.title));
          fill($("av-layer"), Array.from({length: data.layers}, (_, i) => `${i}`));
          fill($("av-iter"), data.iterations.map(t => `${t}`));
          fill($("av-head"), ["all (colour = head)"].concat(Array.from({length: data.heads}, (_, i) => `${i}`)));
          $("av-head").value = "1";
          const cache = {};
          function pattern(s, l, t, h) {
            const key = `${s}/${l}/${t}/${h}`;
            if (!cache[key]) {
              const raw = atob(data.sequences[s].patterns[l][t][h]);
              const out = new Float32Array(raw.length);
              for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i) / 255;
              cache[key] = out;
            }
            return cache[key];
          }
          let focus = null;
          function draw() {
            const s = +$("av-seq").value, l = +$("av-layer").value, t = +$("av-iter").value, hs = +$("av-head").value;
            const seq = data.sequences[s], L = seq.length, rowH = 14, xL = 120, xR = 460;
            const svg = $("av-svg");
            svg.setAttribute("height", 20 + L * rowH);
            const heads = hs === 0 ? Array.from({length: data.heads}, (_, i) => i) : [hs - 1];
            let parts = [];
            for (const h of heads) {
              const p = pattern(s, l, t, h), color = hs === 0 ? colors[h % colors.length] : "#0072b2";
              for (let q = 0; q < L; q++) for (let k = 0; k <= q; k++) {
                const w = p[q * L + k];
                if (w < 0.04) continue;
                if (focus && !((focus.side === "q" && focus.i === q) || (focus.side === "k" && focus.i === k))) continue;
                parts.push(`<line x1="${xL + 6}" y1="${14 + q * rowH}" x2="${xR - 6}" y2="${14 + k * rowH}" stroke="${color}" stroke-opacity="${Math.min(1, w * (focus ? 1 : 0.8))}" stroke-width="${focus ? 2 : 1.2}"><title>head ${h}: ${seq.tokens[q]}@${q} → ${seq.tokens[k]}@${k} ${w.toFixed(3)}</title></line>`);
              }
            }
            for (let i = 0; i < L; i++) {
              const hl = focus && focus.i === i ? " font-weight=\\"bold\\"" : "";
              parts.push(`<text class="tok" data-side="q" data-i="${i}" x="${xL}" y="${18 + i * rowH}" text-anchor="end" font-size="11"${hl}>${seq.tokens[i]} <tspan fill="#999">${i}</tspan><title>${seq.details[i]}</title></text>`);
              parts.push(`<text class="tok" data-side="k" data-i="${i}" x="${xR}" y="${18 + i * rowH}" font-size="11"${hl}><tspan fill="#999">${i}</tspan> ${seq.tokens[i]}<title>${seq.details[i]}</title></text>`);
            }
            parts.push(`<text x="${xL}" y="10" text-anchor="end" font-size="10" fill="#555">query</text><text x="${xR}" y="10" font-size="10" fill="#555">key</text>`);
            svg.innerHTML = parts.join("");
            for (const el of svg.querySelectorAll(".tok")) {
              el.addEventListener("mouseenter", () => { focus = {side: el.dataset.side, i: +el.dataset.i}; draw(); });
              el.addEventListener("mouseleave", () => { focus = null; draw(); });
            }
          }
          for (const id of ["av-seq", "av-layer", "av-iter", "av-head"]) $(id).addEventListener("change", draw);
          draw();
        })();
        </script>
        """
    }
}
