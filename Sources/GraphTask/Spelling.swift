/// Levenshtein distance between two strings, counted in UTF-8 bytes (names here are ASCII).
public func editDistance(_ a: String, _ b: String) -> Int {
    let x = Array(a.utf8), y = Array(b.utf8)
    if x.isEmpty { return y.count }
    if y.isEmpty { return x.count }
    var previous = Array(0...y.count)
    var current = [Int](repeating: 0, count: y.count + 1)
    for i in 1...x.count {
        current[0] = i
        for j in 1...y.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[y.count]
}

/// The candidate nearest to `word` by edit distance, when it is near enough to be a likely typo
/// (at most `slack` edits, or half the word's length if that is more).
public func closestWord(to word: String, among candidates: [String], slack: Int = 2) -> String? {
    guard let best = candidates.min(by: { editDistance(word, $0) < editDistance(word, $1) }) else { return nil }
    return editDistance(word, best) <= max(slack, word.count / 2) ? best : nil
}
