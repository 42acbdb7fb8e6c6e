import Foundation
import HDF5
import Recording

/// `lens inspect`: prints the tree of an HDF5 file.
enum InspectCommand: LensCommand {
    static let spec = CommandSpec<Options>(
        name: "inspect", synopsis: "FILE.h5",
        summary: "Prints the groups and datasets of an HDF5 file with shapes, element types and attributes.",
        positionals: ["FILE.h5"], minimumPositionals: 1, maximumPositionals: 1)

    struct Options: CommandOptions {
        let attributes = Option(flag: "--attributes", help: "print every dataset's attributes too")
        let tree = Option(flag: "--tree", help: "for an activation file, print the raw tree instead of the summary")
    }

    static func run(_ a: ParsedArguments<Options>) throws {
        let path = a.positionals[0]
        let file = try H5File.open(path)
        defer { file.close() }
        if !a[\.tree], try file.root.stringAttribute("schema") == ActivationSchema.name {
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
            if node.kind == .group || a[\.attributes] {
                for (key, value) in node.attributes {
                    var text = "\(value)"
                    if text.count > 100 { text = String(text.prefix(97)) + "..." }
                    print(indent + "  @" + key + " = " + text)
                }
            }
        }
    }
}
