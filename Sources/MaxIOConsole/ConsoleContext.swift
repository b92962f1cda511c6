import Hummingbird
import NIOCore

/// The request context of the console: keeps the client's address for the audit log.
package struct ConsoleRequestContext: RequestContext {
    package var coreContext: CoreRequestContextStorage
    package let remoteIP: String?

    package init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteIP = source.channel.remoteAddress?.ipAddress
    }
}
