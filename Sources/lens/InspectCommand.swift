import Foundation
import HDF5
import Recording

/// `lens inspect`: prints the tree of an HDF5 file.
enum InspectCommand: LensCommand {
    static let spec = CommandSpec(
        name: "inspect", synopsis: "FILE.h5",
        summary: "Prints the groups and datasets of an HDF5 file with shapes, element types and attributes.",
        options: [OptionSpec(name: "--attributes", value: nil, help: "print every dataset's attributes too"),
                  OptionSpec(name: "--tree", value: nil, help: "for an activation file, print the raw tree instead of the summary")],
        positionals: ["FILE.h5"], minimumPositionals: 1, maximumPositionals: 1)

    static func run(_ a: ParsedArguments) throws {
        let path = a.positionals[0]
        let file = try H5File.open(path)
        defer { file.close() }
        if !a.has("--tree"), try file.root.stringAttribute("schema") == ActivationSchema.name {
            file.close()
            do {
                try printActivationSummary(path)
            } catch let error as ActivationFileError {
                throw InputError(error.description)
            }
            return
        }
        let nodes = try file.tree()
        print(path)
        for node in nodes {
            let depth = node.path.split(separator: "/").count
            let indent = String(repeating: "  ", count: max(0, depth - 1))
            let name = node.path == "/" ? "/" : String(node.path.split(separator: "/").last ?? "")
            var line = indent + name
            if node.kind == .dataset {
                line += "  \(node.elementType.map { "\($0)" } ?? "?") \(node.shape ?? [])"
            } else if node.path != "/" {
                line += "/"
            }
            print(line)
            if node.kind == .group || a.has("--attributes") {
                for (key, value) in node.attributes {
                    var text = "\(value)"
                    if text.count > 100 { text = String(text.prefix(97)) + "..." }
                    print(indent + "  @" + key + " = " + text)
                }
            }
        }
    }
}
