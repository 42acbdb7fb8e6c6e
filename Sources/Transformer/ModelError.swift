/// Failures of the model runtime, with messages that read like sentences.
public enum ModelError: Error, CustomStringConvertible, Sendable {
    case invalidConfig(String)
    case missingTensor(name: String, file: String)
    case wrongShape(name: String, expected: [Int], found: [Int], file: String)
    case badCheckpoint(file: String, reason: String)
    case tokenOutOfVocabulary(sequence: Int, position: Int, factor: String, id: Int, size: Int)
    case unknownHook(pattern: String, suggestions: [String])
    case badInput(String)

    public var description: String {
        switch self {
        case .invalidConfig(let message):
            return "invalid model configuration: \(message)"
        case .missingTensor(let name, let file):
            return "checkpoint \(file) has no tensor named \(name)"
        case .wrongShape(let name, let expected, let found, let file):
            return "tensor \(name) in \(file) has shape \(found), expected \(expected)"
        case .badCheckpoint(let file, let reason):
            return "cannot load checkpoint \(file): \(reason)"
        case .tokenOutOfVocabulary(let sequence, let position, let factor, let id, let size):
            return "sequence \(sequence), position \(position): \(factor) id \(id) is outside the model's vocabulary (0..<\(size))"
        case .unknownHook(let pattern, let suggestions):
            let hint = suggestions.isEmpty ? "" : "; nearest hook names: " + suggestions.joined(separator: ", ")
            return "no hook point matches \"\(pattern)\"\(hint)"
        case .badInput(let message):
            return message
        }
    }
}
