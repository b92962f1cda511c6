import Hummingbird
import Logging
import NIOCore
import NIOHTTPTypes
import Synchronization

/// The request context of the S3 front: keeps the channel for `100 Continue` and early rejection.
package struct S3RequestContext: RequestContext {
    package var coreContext: CoreRequestContextStorage
    package let channel: any Channel

    package init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }
}

/// Per-request state the pipeline tracks while a handler runs.
final class RequestState: Sendable {
    private let flags = Mutex<(continueSent: Bool, bodyRead: Bool)>((false, false))
    let expectsContinue: Bool
    let channel: any Channel

    init(expectsContinue: Bool, channel: any Channel) {
        self.expectsContinue = expectsContinue
        self.channel = channel
    }

    /// Sends `100 Continue` if the client waits for it: call after auth and size checks, right
    /// before reading the body.
    func sendContinueIfExpected() async throws {
        guard expectsContinue else { return }
        let send = flags.withLock { f -> Bool in
            defer { f.continueSent = true }
            return !f.continueSent
        }
        guard send else { return }
        try await channel.writeAndFlush(HTTPResponsePart.head(HTTPResponse(status: .continue)))
    }

    /// Whether an error answer must close the connection: the client is still holding back a body
    /// it was told to wait with, so the bytes that follow are not a request.
    var mustCloseOnError: Bool {
        expectsContinue && !flags.withLock { $0.continueSent }
    }
}
