import Foundation
import Logging
import MaxIOCore
import Synchronization

/// The level every logger of the process shares, so it can change at run time.
package final class SharedLogLevel: Sendable {
    private let value: Mutex<Logger.Level>
    package init(_ level: Logger.Level) { value = Mutex(level) }
    package var level: Logger.Level {
        get { value.withLock { $0 } }
        set { value.withLock { $0 = newValue } }
    }
}

/// Writes one entry per line to standard error, as text or as a JSON object. Lines are written whole with
/// one `write(2)`, so concurrent entries never interleave.
package struct LineLogHandler: LogHandler {
    package enum Format: Sendable { case text, json }

    let label: String
    let format: Format
    let shared: SharedLogLevel
    package var metadata: Logger.Metadata = [:]
    package var metadataProvider: Logger.MetadataProvider?

    package init(label: String, format: Format, level: SharedLogLevel) {
        self.label = label
        self.format = format
        self.shared = level
    }

    package var logLevel: Logger.Level {
        get { shared.level }
        set { shared.level = newValue }
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        var all = metadata
        if let provided = metadataProvider?.get() { all.merge(provided) { _, new in new } }
        if let extra = event.metadata { all.merge(extra) { _, new in new } }
        let line =
            switch format {
            case .text: Self.text(event: event, label: label, metadata: all)
            case .json: Self.json(event: event, label: label, metadata: all)
            }
        var bytes = Array(line.utf8)
        bytes.append(0x0A)
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(2, raw.baseAddress! + offset, raw.count - offset)
                if n <= 0 {
                    if n < 0 && errno == EINTR { continue }
                    return
                }
                offset += n
            }
        }
    }

    static func timestamp() -> String {
        var tv = timeval()
        gettimeofday(&tv, nil)
        var t = time_t(tv.tv_sec)
        var parts = tm()
        gmtime_r(&t, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
            parts.tm_hour, parts.tm_min, parts.tm_sec, Int(tv.tv_usec / 1000))
    }

    static func text(event: LogEvent, label: String, metadata: Logger.Metadata) -> String {
        var line = "\(timestamp()) \(event.level) \(label):"
        for key in metadata.keys.sorted() { line += " \(key)=\(metadata[key]!)" }
        line += " \(event.message)"
        return line
    }

    static func json(event: LogEvent, label: String, metadata: Logger.Metadata) -> String {
        var line = "{\"time\":\"\(timestamp())\",\"level\":\"\(event.level)\",\"logger\":\(quote(label))"
        line += ",\"message\":\(quote(event.message.description))"
        for key in metadata.keys.sorted() where !["time", "level", "logger", "message"].contains(key) {
            line += ",\(quote(key)):\(value(metadata[key]!))"
        }
        if event.level >= .warning { line += ",\"source\":\(quote("\(event.file):\(event.line)"))" }
        return line + "}"
    }

    static func value(_ v: Logger.Metadata.Value) -> String {
        switch v {
        case .string(let s): return quote(s)
        case .stringConvertible(let c): return quote(c.description)
        case .array(let items): return "[" + items.map(value).joined(separator: ",") + "]"
        case .dictionary(let d):
            return "{" + d.keys.sorted().map { "\(quote($0)):\(value(d[$0]!))" }.joined(separator: ",") + "}"
        }
    }

    /// A JSON string literal.
    package static func quote(_ s: String) -> String { quotedLiteral(s) }
}
