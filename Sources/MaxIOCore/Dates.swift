import Foundation

/// Date formats of the S3 wire: RFC 1123 for HTTP headers, ISO 8601 with milliseconds for XML,
/// and the compact `yyyyMMdd'T'HHmmss'Z'` of SigV4.
package enum WireDate {
    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    private struct Parts {
        var year, month, day, hour, minute, second, millis, weekday: Int
    }

    private static func parts(_ date: Date) -> Parts {
        let t = date.timeIntervalSince1970
        let secs = Int(t.rounded(.down))
        let millis = Int(((t - Double(secs)) * 1000).rounded())
        var days = secs / 86400
        var rem = secs % 86400
        if rem < 0 {
            rem += 86400
            days -= 1
        }
        let weekday = ((days % 7) + 11) % 7  // 1970-01-01 was a Thursday
        // civil_from_days (Howard Hinnant)
        let z = days + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return Parts(
            year: m <= 2 ? y + 1 : y, month: m, day: d, hour: rem / 3600, minute: (rem % 3600) / 60,
            second: rem % 60, millis: max(0, min(999, millis)), weekday: weekday)
    }

    private static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    private static func date(_ y: Int, _ mo: Int, _ d: Int, _ h: Int, _ mi: Int, _ s: Int) -> Date? {
        // Years outside 1...9999 are refused: they are not dates a client sends, and larger ones would
        // overflow the arithmetic below.
        guard (1...9999).contains(y), (1...12).contains(mo), (1...31).contains(d), (0...23).contains(h),
            (0...59).contains(mi), (0...60).contains(s)
        else { return nil }
        let secs = daysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s
        return Date(timeIntervalSince1970: TimeInterval(secs))
    }

    private static func pad(_ v: Int, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    /// `Wed, 21 Oct 2015 07:28:00 GMT`
    package static func http(_ date: Date) -> String {
        let p = parts(date)
        return
            "\(days[p.weekday]), \(pad(p.day, 2)) \(months[p.month - 1]) \(p.year) \(pad(p.hour, 2)):\(pad(p.minute, 2)):\(pad(p.second, 2)) GMT"
    }

    /// `2015-10-21T07:28:00.000Z`
    package static func iso8601(_ date: Date) -> String {
        let p = parts(date)
        return
            "\(pad(p.year, 4))-\(pad(p.month, 2))-\(pad(p.day, 2))T\(pad(p.hour, 2)):\(pad(p.minute, 2)):\(pad(p.second, 2)).\(pad(p.millis, 3))Z"
    }

    /// `20151021T072800Z`
    package static func amz(_ date: Date) -> String {
        let p = parts(date)
        return
            "\(pad(p.year, 4))\(pad(p.month, 2))\(pad(p.day, 2))T\(pad(p.hour, 2))\(pad(p.minute, 2))\(pad(p.second, 2))Z"
    }

    /// Parses `20151021T072800Z`.
    package static func parseAmz(_ s: some StringProtocol) -> Date? {
        let b = Array(s.utf8)
        guard b.count == 16, b[8] == UInt8(ascii: "T"), b[15] == UInt8(ascii: "Z") else { return nil }
        func num(_ r: Range<Int>) -> Int? {
            var v = 0
            for i in r {
                guard b[i] >= 48, b[i] <= 57 else { return nil }
                v = v * 10 + Int(b[i] - 48)
            }
            return v
        }
        guard let y = num(0..<4), let mo = num(4..<6), let d = num(6..<8), let h = num(9..<11),
            let mi = num(11..<13), let sec = num(13..<15)
        else { return nil }
        return date(y, mo, d, h, mi, sec)
    }

    /// Parses the HTTP date forms: RFC 1123, RFC 850 and asctime; also ISO 8601.
    package static func parseHTTP(_ s: some StringProtocol) -> Date? {
        let str = s.trimmingSpaces()
        if let d = parseAmz(str) { return d }
        let tokens = str.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "-" }).map(String.init)
        func month(_ t: String) -> Int? {
            months.firstIndex { $0.lowercased() == t.prefix(3).lowercased() }.map { $0 + 1 }
        }
        func time(_ t: String) -> (Int, Int, Int)? {
            let p = t.split(separator: ":").compactMap { Int($0) }
            return p.count == 3 ? (p[0], p[1], p[2]) : nil
        }
        // RFC 1123: Sun, 06 Nov 1994 08:49:37 GMT  -> [Sun, 06, Nov, 1994, 08:49:37, GMT]
        // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT   -> [Sunday, 06, Nov, 94, 08:49:37, GMT]
        if tokens.count >= 5, let d = Int(tokens[1]), let mo = month(tokens[2]), var y = Int(tokens[3]),
            let (h, mi, sec) = time(tokens[4])
        {
            if y < 100 { y += y < 70 ? 2000 : 1900 }
            return date(y, mo, d, h, mi, sec)
        }
        // asctime: Sun Nov  6 08:49:37 1994 -> [Sun, Nov, 6, 08:49:37, 1994]
        if tokens.count == 5, let mo = month(tokens[1]), let d = Int(tokens[2]), let (h, mi, sec) = time(tokens[3]),
            let y = Int(tokens[4])
        {
            return date(y, mo, d, h, mi, sec)
        }
        return parseISO8601(str)
    }

    /// Parses `2015-10-21T07:28:00Z`, with optional fractional seconds and a `Z` or `±hh:mm` offset.
    package static func parseISO8601(_ s: some StringProtocol) -> Date? {
        let b = Array(s.utf8)
        guard b.count >= 20, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"), b[10] == UInt8(ascii: "T"),
            b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":")
        else { return nil }
        func num(_ r: Range<Int>) -> Int? {
            var v = 0
            for i in r {
                guard i < b.count, b[i] >= 48, b[i] <= 57 else { return nil }
                v = v * 10 + Int(b[i] - 48)
            }
            return v
        }
        guard let y = num(0..<4), let mo = num(5..<7), let d = num(8..<10), let h = num(11..<13),
            let mi = num(14..<16), let sec = num(17..<19), var when = date(y, mo, d, h, mi, sec)
        else { return nil }
        var i = 19
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            var fraction = 0.0
            var scale = 0.1
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                fraction += Double(b[i] - 48) * scale
                scale /= 10
                i += 1
            }
            when = when.addingTimeInterval(fraction)
        }
        guard i < b.count else { return nil }
        switch b[i] {
        case UInt8(ascii: "Z"):
            return i + 1 == b.count ? when : nil
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard b.count == i + 6, b[i + 3] == UInt8(ascii: ":"), let oh = num((i + 1)..<(i + 3)),
                let om = num((i + 4)..<(i + 6))
            else { return nil }
            let offset = Double(oh * 3600 + om * 60)
            // Local time minus the offset is UTC.
            return when.addingTimeInterval(b[i] == UInt8(ascii: "+") ? -offset : offset)
        default:
            return nil
        }
    }
}
