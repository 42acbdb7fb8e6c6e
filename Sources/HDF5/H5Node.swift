/// One group or dataset in a file listing (see `H5File.tree()`).
public struct H5Node: Sendable {
    /// The absolute path inside the file ("/" for the root group).
    public var path: String
    /// Group or dataset.
    public var kind: H5ObjectKind
    /// The dataset's extent; nil for groups.
    public var shape: [Int]?
    /// The dataset's element type; nil for groups.
    public var elementType: H5ElementType?
    /// The readable attributes in name order (attributes of unsupported types are left out).
    public var attributes: [(String, H5AttributeValue)]
    /// The dataset's chunk extents; nil for groups and unchunked datasets.
    public var chunkShape: [Int]?
    /// The dataset's gzip level; nil when uncompressed.
    public var compression: Int?
}

extension H5File {
    /// Every group and dataset in the file, depth first in name order, starting with "/".
    /// Nesting deeper than 64 levels (only possible through link cycles) is not followed.
    public func tree() throws -> [H5Node] {
        var nodes: [H5Node] = []
        try list(root, depth: 0, into: &nodes)
        return nodes
    }

    private func list(_ group: H5Group, depth: Int, into nodes: inout [H5Node]) throws {
        try group.checkOpen()
        nodes.append(H5Node(path: group.path, kind: .group, shape: nil, elementType: nil,
                            attributes: try readableAttributes(of: group), chunkShape: nil, compression: nil))
        guard depth < 64 else { return }
        for name in try group.childNames() {
            switch group.lookup(name) {
            case .object(kind: .group):
                try list(try group.group(name), depth: depth + 1, into: &nodes)
            case .object(kind: .dataset):
                let dataset = try group.dataset(name)
                nodes.append(H5Node(path: dataset.path, kind: .dataset, shape: dataset.shape,
                                    elementType: dataset.elementType,
                                    attributes: try readableAttributes(of: dataset),
                                    chunkShape: dataset.chunkShape(), compression: dataset.gzipLevel()))
            case .absent, .unsupported:
                continue
            }
        }
    }

    private func readableAttributes(of object: H5Object) throws -> [(String, H5AttributeValue)] {
        try object.attributeNames().compactMap { name in
            (try? object.attribute(name)).flatMap { $0 }.map { (name, $0) }
        }
    }
}
