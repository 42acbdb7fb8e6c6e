import Foundation
import LensTestSupport
import Testing
@testable import HDF5

@Suite("Attributes")
struct AttributeTests {
    @Test("string, int, double and array attributes on files, groups and datasets")
    func roundTrip() throws {
        try withTemporaryDirectoryURL { dir in
            let path = dir.appendingPathComponent("attrs.h5").path
            do {
                let file = try H5File.create(path)
                let root = file.root
                try root.setAttribute("model", "tiny-gpt ✓")
                try root.setAttribute("n_layers", 4)
                try root.setAttribute("lr", 3e-4)
                try root.setAttribute("dims", [64, 128, -1])
                try root.setAttribute("scales", [0.5, 1.5])
                try root.setAttribute("vocab", ["<bos>", "a", "", "ü"])
                try root.setAttribute("no_ints", [Int]())
                let group = try root.createGroup("layer0")
                try group.setAttribute("kind", "attention")
                try group.write("w", [Float(0)], shape: [1])
                try group.dataset("w").setAttribute("units", "logits")
                file.close()
            }
            let file = try H5File.open(path)
            let root = file.root
            #expect(try root.attribute("model") == .string("tiny-gpt ✓"))
            #expect(try root.stringAttribute("model") == "tiny-gpt ✓")
            #expect(try root.intAttribute("n_layers") == 4)
            #expect(try root.doubleAttribute("lr") == 3e-4)
            #expect(try root.doubleAttribute("n_layers") == 4.0)
            #expect(try root.attribute("dims") == .ints([64, 128, -1]))
            #expect(try root.attribute("scales") == .doubles([0.5, 1.5]))
            #expect(try root.attribute("vocab") == .strings(["<bos>", "a", "", "ü"]))
            #expect(try root.attribute("no_ints") == .ints([]))
            #expect(try root.attribute("absent") == nil)
            #expect(try root.intAttribute("model") == nil)
            #expect(try root.attributeNames() == ["dims", "lr", "model", "n_layers", "no_ints", "scales", "vocab"])
            #expect(try root.group("layer0").stringAttribute("kind") == "attention")
            #expect(try root.dataset("layer0/w").stringAttribute("units") == "logits")
        }
    }

    @Test("overwriting an attribute replaces its value and type")
    func overwrite() throws {
        try withTemporaryDirectoryURL { dir in
            let path = dir.appendingPathComponent("over.h5").path
            do {
                let file = try H5File.create(path)
                try file.root.setAttribute("step", 1)
                try file.root.setAttribute("step", 2)
                try file.root.setAttribute("note", "first")
                try file.root.setAttribute("note", ["now", "a", "list"])
                file.close()
            }
            let file = try H5File.open(path, mode: .readWrite)
            #expect(try file.root.intAttribute("step") == 2)
            try file.root.setAttribute("step", 2.5)
            #expect(try file.root.attribute("step") == .double(2.5))
            #expect(try file.root.attribute("note") == .strings(["now", "a", "list"]))
            #expect(try file.root.attributeNames() == ["note", "step"])
        }
    }

    @Test("writing attributes to a read-only file fails with HDF5's reason")
    func readOnly() throws {
        try withTemporaryDirectoryURL { dir in
            let path = dir.appendingPathComponent("ro.h5").path
            try H5File.create(path).close()
            let file = try H5File.open(path)
            do {
                try file.root.setAttribute("x", 1)
                Issue.record("expected a failure")
            } catch let error as H5Error {
                guard case .failed(operation: "set attribute x on", path: "/", file: path, let reason) = error else {
                    Issue.record("unexpected \(error)")
                    return
                }
                #expect(!reason.isEmpty && reason != "unknown HDF5 error")
            }
        }
    }
}
