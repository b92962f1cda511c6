import Hummingbird
import NIOCore

/// The request context of the console: keeps the client's address for the audit log.
package struct ConsoleRequestContext: RequestContext {
    package var coreContext: CoreRequestContextStorage
    package let remoteIP: String?
    /// The connection (the S3 gateway passes it on, as the S3 front's own requests have theirs).
    package let channel: any Channel

    package init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
        self.remoteIP = source.channel.remoteAddress?.ipAddress
    }
}
