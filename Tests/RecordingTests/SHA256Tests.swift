import Foundation
import Testing
@testable import Recording

@Suite struct SHA256Tests {
    @Test func knownVectors() {
        #expect(SHA256.hex(Array("".utf8)) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hex([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func piecewiseUpdatesEqualOneShot() {
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var hash = SHA256()
        for cut in stride(from: 0, to: 1000, by: 77) { hash.update(bytes[cut..<min(cut + 77, 1000)]) }
        #expect(hash.finalize() == SHA256.hex(bytes))
    }

    @Test func fileDigestMatchesBytes() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sha-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let bytes = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(try SHA256.hex(ofFile: path) == SHA256.hex(bytes))
        #expect(throws: RecordingError.self) { try SHA256.hex(ofFile: path + ".missing") }
    }

    @Test func iterationSelections() throws {
        #expect(try IterationSelection.parse("all", runIterations: 3) == [0, 1, 2])
        #expect(try IterationSelection.parse("last", runIterations: 3) == [2])
        #expect(try IterationSelection.parse("0,2", runIterations: 3) == [0, 2])
        #expect(try IterationSelection.parse("2, 0..1, -1", runIterations: 3) == [0, 1, 2])
        #expect(throws: RecordingError.self) { try IterationSelection.parse("3", runIterations: 3) }
        #expect(throws: RecordingError.self) { try IterationSelection.parse("x", runIterations: 3) }
        #expect(throws: RecordingError.self) { try IterationSelection.parse("2..1", runIterations: 3) }
    }
}
