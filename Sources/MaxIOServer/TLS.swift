import Foundation
import HummingbirdCore
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import Synchronization
import UnixSignals

/// The TLS context new connections use. Replacing it (on SIGHUP) leaves open connections on the one they
/// started with: nothing is dropped.
package final class TLSContextBox: Sendable {
    let certificateFile: String
    let keyFile: String
    private let current: Mutex<NIOSSLContext>

    package init(certificateFile: String, keyFile: String) throws(ConfigError) {
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        current = Mutex(try Self.load(certificateFile: certificateFile, keyFile: keyFile))
    }

    var context: NIOSSLContext { current.withLock { $0 } }

    /// Reads the files again; on failure the old context stays in use.
    func reload() throws(ConfigError) {
        let fresh = try Self.load(certificateFile: certificateFile, keyFile: keyFile)
        current.withLock { $0 = fresh }
    }

    static func load(certificateFile: String, keyFile: String) throws(ConfigError) -> NIOSSLContext {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificateFile)
        } catch {
            throw ConfigError("tls.cert_file: cannot read a PEM certificate chain from \(certificateFile): \(error)")
        }
        guard !chain.isEmpty else { throw ConfigError("tls.cert_file: no certificate in \(certificateFile)") }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: keyFile, format: .pem)
        } catch {
            throw ConfigError("tls.key_file: cannot read a PEM private key from \(keyFile): \(error)")
        }
        var config = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        config.minimumTLSVersion = .tlsv12
        do {
            return try NIOSSLContext(configuration: config)
        } catch {
            throw ConfigError(
                "tls: the certificate in \(certificateFile) and the key in \(keyFile) do not make a usable pair: \(error)"
            )
        }
    }
}

/// A child channel that adds TLS with the box's current context before the HTTP handlers.
struct ReloadableTLSChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value
    let base: Base
    let box: TLSContextBox

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let context = box.context
        return channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

extension ReloadableTLSChannel: HTTPChannelHandler where Base: HTTPChannelHandler {
    var responder: HTTPChannelHandler.Responder { base.responder }
}

extension HTTPServerBuilder {
    /// HTTP/1.1, over TLS when a context box is given.
    static func maxiofs(tls box: TLSContextBox?, configuration: HTTP1Channel.Configuration) -> HTTPServerBuilder {
        .init { responder in
            let http = HTTP1Channel(responder: responder, configuration: configuration)
            guard let box else { return http }
            return ReloadableTLSChannel(base: http, box: box)
        }
    }
}

/// Reloads the certificate and key on SIGHUP, until graceful shutdown. Runs also without TLS, so that a
/// SIGHUP (a `systemctl reload`) never terminates the server.
struct CertificateReloader: Service, CustomStringConvertible {
    var description: String { "CertificateReloader" }
    let box: TLSContextBox?
    let logger: Logger

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        await cancelWhenGracefulShutdown {
            for await _ in signals {
                guard let box else {
                    logger.notice("SIGHUP: no TLS certificate to reload")
                    continue
                }
                do {
                    try box.reload()
                    logger.notice(
                        "reloaded the TLS certificate", metadata: ["cert_file": "\(box.certificateFile)"])
                } catch {
                    logger.error(
                        "could not reload the TLS certificate; the previous one stays in use",
                        metadata: ["error": "\(error)"])
                }
            }
        }
    }
}
