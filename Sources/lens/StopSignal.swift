import Dispatch
import Foundation

/// Turns SIGINT and SIGTERM into a flag that a long loop asks between units of work
/// (`Recorder.record`'s batches, `Trainer.run`'s steps), so that Ctrl-C or `kill` ends a
/// command with a complete file instead of a torn one.
final class StopSignal {
    /// What a signal does besides setting the flag.
    enum Response {
        /// Say so on standard error; a second signal ends the process at once (lens run,
        /// whose batches are quick to record again).
        case announce(command: String, finishing: String)
        /// Nothing: the current step and its checkpoint always finish (lens train).
        case quiet
    }

    private let lock = NSLock()
    private var flag = false
    private var sources: [DispatchSourceSignal] = []

    init(_ response: Response) {
        unblockStopSignals()
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [weak self] in
                guard let self else { return }
                self.lock.lock()
                let second = self.flag
                self.flag = true
                self.lock.unlock()
                guard case .announce(let command, let finishing) = response else { return }
                let message = second ? "lens \(command): second signal, stopping now\n" : "\nlens \(command): stopping after \(finishing)…\n"
                FileHandle.standardError.write(Data(message.utf8))
                if second { exit(130) }
            }
            source.resume()
            sources.append(source)
        }
    }

    var requested: Bool {
        lock.lock()
        defer { lock.unlock() }
        return flag
    }
}

/// Unblocks SIGINT and SIGTERM for this thread and the threads it starts: a parent may have
/// started us with them blocked (test runners, some shells' background jobs), and then Ctrl-C
/// and kill would never reach a handler.
private func unblockStopSignals() {
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, SIGINT)
    sigaddset(&set, SIGTERM)
    pthread_sigmask(SIG_UNBLOCK, &set, nil)
}
