import Foundation

/// The part of TOML 1.0 a configuration file needs: `[table]` headers, `key = value` with bare, quoted and
/// dotted keys, basic and literal strings, integers, floats, booleans and arrays of them (over several
/// lines too), and `#` comments. Multi-line strings, inline tables, arrays of tables and dates are refused
/// with a message naming the line, never misread.
package enum TOMLValue: Sendable, Equatable {
    case string(String)
    case integer(Int64)
    case float(Double)
    case bool(Bool)
    case array([TOMLValue])

    package var typeName: String {
        switch self {
        case .string: "a string"
        case .integer: "an integer"
        case .float: "a float"
        case .bool: "a boolean"
        case .array: "an array"
        }
    }
}

package struct TOMLEntry: Sendable, Equatable {
    /// The full dotted key, e.g. `s3.address` for `address` under `[s3]`.
    package var key: String
    package var value: TOMLValue
    package var line: Int
}

package struct TOMLError: Error, Equatable, CustomStringConvertible {
    package var line: Int
    package var message: String
    package var description: String { "line \(line): \(message)" }
}

package enum TOML {
    /// Parses a document into its entries, in document order.
    package static func parse(_ text: String) throws(TOMLError) -> [TOMLEntry] {
        var parser = Parser(bytes: Array(text.utf8))
        return try parser.document()
    }

    private struct Parser {
        let bytes: [UInt8]
        var i = 0
        var line = 1
        var table: [String] = []
        var seen: [String: Int] = [:]
        var tables: Set<String> = []
        var entries: [TOMLEntry] = []

        init(bytes: [UInt8]) { self.bytes = bytes }

        func fail(_ message: String) -> TOMLError { TOMLError(line: line, message: message) }

        var peek: UInt8? { i < bytes.count ? bytes[i] : nil }

        mutating func skipSpaces() {
            while let c = peek, c == 0x20 || c == 0x09 { i += 1 }
        }

        /// Skips spaces, comments and newlines (inside arrays and between statements).
        mutating func skipBlank() {
            while let c = peek {
                if c == 0x20 || c == 0x09 || c == 0x0D {
                    i += 1
                } else if c == 0x0A {
                    i += 1
                    line += 1
                } else if c == 0x23 {
                    skipComment()
                } else {
                    return
                }
            }
        }

        mutating func skipComment() {
            while let c = peek, c != 0x0A { i += 1 }
        }

        /// After a statement: only spaces and a comment may follow on its line.
        mutating func endOfLine() throws(TOMLError) {
            skipSpaces()
            if peek == 0x23 { skipComment() }
            if peek == 0x0D { i += 1 }
            guard let c = peek else { return }
            guard c == 0x0A else { throw fail("unexpected text after the value") }
        }

        mutating func document() throws(TOMLError) -> [TOMLEntry] {
            while true {
                skipBlank()
                guard let c = peek else { return entries }
                if c == 0x5B {
                    try header()
                } else {
                    try keyValue()
                }
                try endOfLine()
            }
        }

        mutating func header() throws(TOMLError) {
            i += 1
            if peek == 0x5B { throw fail("arrays of tables ([[...]]) are not supported in the configuration") }
            skipSpaces()
            let path = try dottedKey()
            skipSpaces()
            guard peek == 0x5D else { throw fail("expected ']' to close the table header") }
            i += 1
            let name = path.joined(separator: ".")
            guard !tables.contains(name), seen[name] == nil else { throw fail("table [\(name)] is defined twice") }
            tables.insert(name)
            table = path
        }

        mutating func keyValue() throws(TOMLError) {
            let start = line
            let path = table + (try dottedKey())
            skipSpaces()
            guard peek == 0x3D else { throw fail("expected '=' after the key") }
            i += 1
            skipSpaces()
            let key = path.joined(separator: ".")
            let v: TOMLValue
            do {
                v = try value()
            } catch {
                throw TOMLError(line: error.line, message: key + ": " + error.message)
            }
            if let first = seen[key] { throw fail("key '\(key)' is set twice (first on line \(first))") }
            if tables.contains(key) { throw fail("key '\(key)' is also a table") }
            seen[key] = start
            entries.append(TOMLEntry(key: key, value: v, line: start))
        }

        mutating func dottedKey() throws(TOMLError) -> [String] {
            var parts = [try simpleKey()]
            while true {
                skipSpaces()
                guard peek == 0x2E else { return parts }
                i += 1
                skipSpaces()
                parts.append(try simpleKey())
            }
        }

        mutating func simpleKey() throws(TOMLError) -> String {
            switch peek {
            case 0x22: return try basicString()
            case 0x27: return try literalString()
            default:
                let start = i
                while let c = peek, Self.isBare(c) { i += 1 }
                guard i > start else { throw fail("expected a key") }
                return String(decoding: bytes[start..<i], as: UTF8.self)
            }
        }

        static func isBare(_ c: UInt8) -> Bool {
            (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x5F
                || c == 0x2D
        }

        mutating func value() throws(TOMLError) -> TOMLValue {
            guard let c = peek, c != 0x0A, c != 0x0D, c != 0x23 else { throw fail("expected a value") }
            switch c {
            case 0x22:
                if bytes[i...].starts(with: [0x22, 0x22, 0x22]) {
                    throw fail("multi-line strings are not supported in the configuration")
                }
                return .string(try basicString())
            case 0x27:
                if bytes[i...].starts(with: [0x27, 0x27, 0x27]) {
                    throw fail("multi-line strings are not supported in the configuration")
                }
                return .string(try literalString())
            case 0x5B: return try array()
            case 0x7B: throw fail("inline tables are not supported in the configuration")
            default: return try scalar()
            }
        }

        mutating func array() throws(TOMLError) -> TOMLValue {
            i += 1
            var items: [TOMLValue] = []
            while true {
                skipBlank()
                guard let c = peek else { throw fail("unterminated array") }
                if c == 0x5D {
                    i += 1
                    return .array(items)
                }
                items.append(try value())
                skipBlank()
                if peek == nil {
                    throw fail("unterminated array")
                } else if peek == 0x2C {
                    i += 1
                } else if peek != 0x5D {
                    throw fail("expected ',' or ']' in the array")
                }
            }
        }

        mutating func scalar() throws(TOMLError) -> TOMLValue {
            let start = i
            while let c = peek, c != 0x20, c != 0x09, c != 0x0A, c != 0x0D, c != 0x23, c != 0x2C, c != 0x5D {
                i += 1
            }
            let word = String(decoding: bytes[start..<i], as: UTF8.self)
            switch word {
            case "true": return .bool(true)
            case "false": return .bool(false)
            case "inf", "+inf", "-inf", "nan", "+nan", "-nan":
                throw fail("infinity and NaN are not usable here")
            default: break
            }
            // Neither echo the word (it may be a secret that lacks its quotes) nor hand it to a parser that
            // takes more than TOML's decimal forms.
            let digits = word.replacingOccurrences(of: "_", with: "")
            let underscoresOK = !word.contains("__") && !word.hasPrefix("_") && !word.hasSuffix("_")
            for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] where digits.hasPrefix(prefix) {
                guard underscoresOK, let n = Int64(digits.dropFirst(2), radix: radix),
                    !digits.dropFirst(2).hasPrefix("-"),
                    !digits.dropFirst(2).hasPrefix("+")
                else { throw fail("not a valid number") }
                return .integer(n)
            }
            let numeric =
                !digits.isEmpty && digits.allSatisfy { "0123456789+-.eE".contains($0) }
                && digits.contains(where: \.isNumber)
            guard numeric else {
                if word.isEmpty { throw fail("expected a value") }
                throw fail("a value that is not a number, true or false must be quoted")
            }
            guard underscoresOK else { throw fail("not a valid number (misplaced '_')") }
            let unsigned = digits.hasPrefix("+") || digits.hasPrefix("-") ? digits.dropFirst() : Substring(digits)
            if let n = Int64(digits) {
                if unsigned.count > 1 && unsigned.hasPrefix("0") { throw fail("leading zeros are not allowed") }
                return .integer(n)
            }
            if digits.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }), let d = Double(digits),
                unsigned.first?.isNumber == true, digits.last?.isNumber == true, !digits.contains(".e"),
                !digits.contains(".E")
            {
                guard d.isFinite else { throw fail("number out of range") }
                return .float(d)
            }
            if unsigned.allSatisfy(\.isNumber) { throw fail("number out of range") }
            throw fail("not a valid number")
        }

        mutating func basicString() throws(TOMLError) -> String {
            i += 1
            var out: [UInt8] = []
            while true {
                guard let c = peek else { throw fail("unterminated string") }
                i += 1
                switch c {
                case 0x22: return String(decoding: out, as: UTF8.self)
                case 0x0A: throw fail("unterminated string")
                case 0x5C:
                    guard let e = peek else { throw fail("unterminated string") }
                    i += 1
                    switch e {
                    case 0x22: out.append(0x22)
                    case 0x5C: out.append(0x5C)
                    case 0x62: out.append(0x08)
                    case 0x66: out.append(0x0C)
                    case 0x6E: out.append(0x0A)
                    case 0x72: out.append(0x0D)
                    case 0x74: out.append(0x09)
                    case 0x75, 0x55:
                        let n = e == 0x75 ? 4 : 8
                        guard i + n <= bytes.count,
                            let code = UInt32(String(decoding: bytes[i..<i + n], as: UTF8.self), radix: 16),
                            let scalar = Unicode.Scalar(code)
                        else { throw fail("invalid \\u escape in a string") }
                        i += n
                        out.append(contentsOf: Array(String(Character(scalar)).utf8))
                    default: throw fail("invalid escape '\\\(Character(Unicode.Scalar(e)))' in a string")
                    }
                default:
                    if c < 0x20 && c != 0x09 { throw fail("control character in a string") }
                    out.append(c)
                }
            }
        }

        mutating func literalString() throws(TOMLError) -> String {
            i += 1
            let start = i
            while let c = peek, c != 0x27 {
                if c == 0x0A { throw fail("unterminated string") }
                i += 1
            }
            guard peek == 0x27 else { throw fail("unterminated string") }
            defer { i += 1 }
            return String(decoding: bytes[start..<i], as: UTF8.self)
        }
    }
}
