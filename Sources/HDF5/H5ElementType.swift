import CHDF5

/// The element type of a dataset, as the wrapper names it.
public enum H5ElementType: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// 32-bit IEEE float (Swift `Float`).
    case float32
    /// 64-bit IEEE float (Swift `Double`).
    case float64
    /// Signed 32-bit integer.
    case int32
    /// Signed 64-bit integer.
    case int64
    /// Unsigned byte.
    case uint8
    /// A string type (fixed or variable length).
    case string
    /// Any other stored type, named like "int16", "uint64", "float16", "compound".
    case other(String)

    /// The type's name ("float32", "int64", ...).
    public var description: String {
        switch self {
        case .float32: return "float32"
        case .float64: return "float64"
        case .int32: return "int32"
        case .int64: return "int64"
        case .uint8: return "uint8"
        case .string: return "string"
        case .other(let name): return name
        }
    }

    /// Classifies the HDF5 datatype `type` by class, width and signedness (byte order is
    /// ignored: HDF5 converts it on read).
    init(hdf5 type: hid_t) {
        let size = H5Tget_size(type)
        switch H5Tget_class(type) {
        case H5T_FLOAT:
            switch size {
            case 4: self = .float32
            case 8: self = .float64
            default: self = .other("float\(size * 8)")
            }
        case H5T_INTEGER:
            let signed = H5Tget_sign(type) == H5T_SGN_2
            switch (size, signed) {
            case (4, true): self = .int32
            case (8, true): self = .int64
            case (1, false): self = .uint8
            default: self = .other("\(signed ? "int" : "uint")\(size * 8)")
            }
        case H5T_STRING: self = .string
        case H5T_COMPOUND: self = .other("compound")
        case H5T_ENUM: self = .other("enum")
        case H5T_BITFIELD: self = .other("bitfield")
        case H5T_OPAQUE: self = .other("opaque")
        case H5T_REFERENCE: self = .other("reference")
        case H5T_VLEN: self = .other("vlen")
        case H5T_ARRAY: self = .other("array")
        case H5T_TIME: self = .other("time")
        default: self = .other("unknown")
        }
    }

    /// Bytes one element takes in memory (1 for strings and other types, whose reads size
    /// themselves).
    var byteWidth: Int {
        switch self {
        case .float32, .int32: return 4
        case .float64, .int64: return 8
        case .uint8, .string, .other: return 1
        }
    }

    /// The native HDF5 type used in memory for this element type, if it has one.
    var nativeType: hid_t? {
        switch self {
        case .float32: return lens_H5T_NATIVE_FLOAT()
        case .float64: return lens_H5T_NATIVE_DOUBLE()
        case .int32: return lens_H5T_NATIVE_INT32()
        case .int64: return lens_H5T_NATIVE_INT64()
        case .uint8: return lens_H5T_NATIVE_UINT8()
        case .string, .other: return nil
        }
    }
}

/// A numeric element type that can be stored in and read from datasets.
///
/// Reads are strict: the stored type must match `T` in class, width and signedness
/// (a float32 dataset cannot be read as Double); only byte order is converted.
public protocol H5Scalar: BitwiseCopyable, Sendable {
    /// The dataset element type this Swift type maps to.
    static var h5ElementType: H5ElementType { get }
}

extension Float: H5Scalar {
    /// float32.
    public static var h5ElementType: H5ElementType { .float32 }
}

extension Double: H5Scalar {
    /// float64.
    public static var h5ElementType: H5ElementType { .float64 }
}

extension Int32: H5Scalar {
    /// int32.
    public static var h5ElementType: H5ElementType { .int32 }
}

extension Int64: H5Scalar {
    /// int64.
    public static var h5ElementType: H5ElementType { .int64 }
}

extension UInt8: H5Scalar {
    /// uint8.
    public static var h5ElementType: H5ElementType { .uint8 }
}

/// A dense row-major array read from a dataset.
public struct H5Array<T> {
    /// The elements in row-major (C) order.
    public var values: [T]
    /// The extent of each axis; [] for a scalar.
    public var shape: [Int]

    /// Wraps `values` laid out row-major in `shape`.
    public init(values: [T], shape: [Int]) {
        self.values = values
        self.shape = shape
    }
}

extension H5Array: Sendable where T: Sendable {}
extension H5Array: Equatable where T: Equatable {}
