import Foundation
import LensTestSupport
import Testing
@testable import HDF5

@Suite("Tree listing")
struct TreeTests {
    @Test("tree lists groups and datasets depth first with their details")
    func listing() throws {
        try withTemporaryDirectoryURL { dir in
            let path = dir.appendingPathComponent("tree.h5").path
            do {
                let file = try H5File.create(path)
                try file.root.setAttribute("format", "latentlens/1")
                let layers = try file.root.createGroup("layers")
                try layers.write("0/w", [Float](repeating: 1, count: 6), shape: [2, 3], compression: 1)
                let acts = try file.root.createExtendableDataset("acts", of: UInt8.self, rowShape: [2],
                                                                 chunkRows: 16)
                try acts.append([UInt8]([1, 2, 3, 4]), rows: 2)
                try acts.setAttribute("layer", 0)
                file.close()
            }
            let nodes = try H5File.open(path).tree()
            #expect(nodes.map(\.path) == ["/", "/acts", "/layers", "/layers/0", "/layers/0/w"])
            #expect(nodes.map(\.kind) == [.group, .dataset, .group, .group, .dataset])

            #expect(nodes[0].attributes.count == 1)
            #expect(nodes[0].attributes.first?.0 == "format")
            #expect(nodes[0].attributes.first?.1 == .string("latentlens/1"))

            let acts = nodes[1]
            #expect(acts.shape == [2, 2])
            #expect(acts.elementType == .uint8)
            #expect(acts.chunkShape == [16, 2])
            #expect(acts.compression == nil)
            #expect(acts.attributes.map(\.0) == ["layer"])

            let weights = nodes[4]
            #expect(weights.shape == [2, 3])
            #expect(weights.elementType == .float32)
            #expect(weights.compression == 1)
            #expect(nodes[2].shape == nil && nodes[2].elementType == nil)
        }
    }
}
