import GraphTask
import Outputs
import HDF5
import Probes
import Recording
import Training
import Transformer

/// How `lens` reports a failure: one readable line and an exit status.
///
/// Status 2 means the user can fix it (usage, a bad file, a bad program or probe); status 1 is
/// a failure while working (disk full, a NaN loss, an HDF5 write that failed).
struct FailureReport {
    let message: String
    let status: Int32

    init(_ error: Error) {
        let description = String(describing: error)
        message = "error: " + description
        status = FailureReport.isInputError(error) ? 2 : 1
    }

    static func isInputError(_ error: Error) -> Bool {
        switch error {
        case is UsageError, is InputError, is ProgramError, is ModelError, is ProbeError, is ActivationFileError:
            return true
        case let error as OutputError:
            return error.isUsersToFix
        case let error as H5Error:
            switch error {
            case .fileNotFound, .openFailed, .fileExists, .missing, .wrongKind, .typeMismatch, .shapeMismatch, .invalidArgument:
                return true
            default:
                return false
            }
        case let error as RecordingError:
            switch error {
            case .writeFailed, .badBatch, .noRoom: return false
            default: return true
            }
        case let error as TrainingError:
            switch error {
            case .invalidSetting, .incompatibleResume: return true
            case .nonFiniteLoss: return false
            }
        default:
            return (error as? UserInputError) != nil
        }
    }
}

/// Marks error types of other modules whose cause is the user's input (status 2).
protocol UserInputError: Error {}
