import Foundation
import MaxIOCore
import Testing

@Suite struct CoreValueTests {
    @Test(arguments: ["abc", "my-bucket", "my.bucket.name", "a1b", String(repeating: "a", count: 63), "123"])
    func validBucketNames(_ name: String) { #expect(BucketName.isValid(name)) }

    @Test(arguments: [
        "ab", String(repeating: "a", count: 64), "MyBucket", "my_bucket", "-abc", "abc-", ".abc", "abc.",
        "a..b", "a.-b", "a-.b", "192.168.1.1", "xn--abc", "sthree-abc", "abc-s3alias", "abc--ol-s3", "ab c", "é12",
    ])
    func invalidBucketNames(_ name: String) { #expect(!BucketName.isValid(name)) }

    @Test func byteRanges() {
        #expect(ByteRange.parse("bytes=0-9") == .from(0, last: 9))
        #expect(ByteRange.parse("bytes=10-") == .from(10, last: nil))
        #expect(ByteRange.parse("bytes=-5") == .suffix(5))
        #expect(ByteRange.parse("bytes=5-1") == nil)
        #expect(ByteRange.parse("bytes=0-1,4-5") == nil)
        #expect(ByteRange.parse("items=0-1") == nil)
        #expect(ByteRange.parse("bytes=a-b") == nil)
        #expect(ByteRange.from(0, last: 9).resolve(size: 100) == 0...9)
        #expect(ByteRange.from(5, last: 1_000_000).resolve(size: 100) == 5...99)
        #expect(ByteRange.from(100, last: nil).resolve(size: 100) == nil)
        #expect(ByteRange.suffix(5).resolve(size: 100) == 95...99)
        #expect(ByteRange.suffix(500).resolve(size: 100) == 0...99)
        #expect(ByteRange.suffix(0).resolve(size: 100) == nil)
        #expect(ByteRange.from(0, last: nil).resolve(size: 0) == nil)
    }

    @Test func dates() {
        let d = Date(timeIntervalSince1970: 1_445_412_480.123)  // 2015-10-21T07:28:00.123Z
        #expect(WireDate.http(d) == "Wed, 21 Oct 2015 07:28:00 GMT")
        #expect(WireDate.iso8601(d) == "2015-10-21T07:28:00.123Z")
        #expect(WireDate.amz(d) == "20151021T072800Z")
        #expect(WireDate.parseAmz("20151021T072800Z") == Date(timeIntervalSince1970: 1_445_412_480))
        #expect(WireDate.parseHTTP("Wed, 21 Oct 2015 07:28:00 GMT") == Date(timeIntervalSince1970: 1_445_412_480))
        #expect(WireDate.parseHTTP("Wednesday, 21-Oct-15 07:28:00 GMT") == Date(timeIntervalSince1970: 1_445_412_480))
        #expect(WireDate.parseHTTP("Wed Oct 21 07:28:00 2015") == Date(timeIntervalSince1970: 1_445_412_480))
        #expect(WireDate.parseHTTP("2015-10-21T07:28:00.000Z") == Date(timeIntervalSince1970: 1_445_412_480))
        #expect(WireDate.parseHTTP("garbage") == nil)
        // Absurd years are refused, not overflowed into a crash.
        #expect(WireDate.parseHTTP("Sun, 06 Nov 300000000000 08:49:37 GMT") == nil)
        #expect(WireDate.parseHTTP("Sun Nov  6 08:49:37 9223372036854775807") == nil)
        #expect(WireDate.parseHTTP("ZZZZ-ZZZZZT 99999999999999-01-01T00:00:00Z") == nil)
        #expect(WireDate.parseHTTP("Sun, 06 Nov 10000 08:49:37 GMT") == nil)
        #expect(WireDate.http(Date(timeIntervalSince1970: 0)) == "Thu, 01 Jan 1970 00:00:00 GMT")
    }

    @Test func percentEncoding() {
        #expect(PercentEncoding.encode("a b/c+é~", keepSlash: true) == "a%20b/c%2B%C3%A9~")
        #expect(PercentEncoding.encode("a/b") == "a%2Fb")
        #expect(PercentEncoding.decode("a%20b%2Fc+") == "a b/c+")
        #expect(PercentEncoding.decode("a+b", plusAsSpace: true) == "a b")
        #expect(PercentEncoding.decode("%zz") == nil)
        #expect(PercentEncoding.decode("%ff") == nil)  // not UTF-8
        #expect(PercentEncoding.decode("%00") == "\u{0}")
    }

    @Test func randomIDs() {
        let ids = (0..<1000).map { _ in randomHexID() }
        #expect(Set(ids).count == 1000)
        #expect(ids.allSatisfy { $0.count == 32 && Hex.decode($0) != nil })
        #expect(randomHexID(bytes: 5).count == 10)
    }

    @Test func trimming() {
        #expect("  a b\t".trimmingSpaces() == "a b")
        #expect("\t \t".trimmingSpaces() == "")
        #expect("é ".trimmingSpaces() == "é")
        #expect("x"[...].trimmingSpaces() == "x")
    }

    @Test func prefixSuccessor() {
        #expect(bytePrefixSuccessor(Array("a/".utf8)) == Array("a0".utf8))
        #expect(bytePrefixSuccessor([0x61, 0xff]) == [0x62])
        #expect(bytePrefixSuccessor([0xff, 0xff]) == nil)
    }
}

@Suite struct ChecksumTests {
    /// The standard check values of each algorithm over "123456789".
    @Test(arguments: [
        (ChecksumAlgorithm.CRC32, "cbf43926"), (.CRC32C, "e3069283"), (.CRC64NVME, "ae8b14860a799888"),
        (.SHA1, "f7c3bc1d808e04732adf679965ccc34ca7ae3441"),
        (.SHA256, "15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225"),
    ])
    func checkValues(_ algorithm: ChecksumAlgorithm, _ hex: String) {
        var h = ChecksumHasher(algorithm)
        h.update(Array("1234".utf8))
        h.update(Array("56789".utf8))
        #expect(Hex.encode(h.finalize()) == hex)
        #expect(h.finalize().count == algorithm.size)
    }

    /// Long inputs go through the 8-byte paths (and hardware CRC32C); compare with byte-at-a-time halves.
    @Test(arguments: ChecksumAlgorithm.allCases)
    func longInputsAgreeAcrossSplits(_ algorithm: ChecksumAlgorithm) {
        let data = (0..<10_007).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        var whole = ChecksumHasher(algorithm)
        whole.update(data)
        var parts = ChecksumHasher(algorithm)
        for chunk in stride(from: 0, to: data.count, by: 13) {
            parts.update(Array(data[chunk..<min(chunk + 13, data.count)]))
        }
        #expect(whole.finalize() == parts.finalize())
    }

    @Test func headerNames() {
        #expect(ChecksumAlgorithm.CRC64NVME.headerName == "x-amz-checksum-crc64nvme")
        #expect(ChecksumAlgorithm(headerName: "x-amz-checksum-crc32c") == .CRC32C)
        #expect(ChecksumAlgorithm(headerName: "x-amz-checksum-md5") == nil)
    }
}

@Suite struct ISO8601ParsingTests {
    @Test(arguments: [
        ("2030-01-02T03:04:05Z", 1_893_553_445.0),
        ("2030-01-02T03:04:05.250Z", 1_893_553_445.25),
        ("2030-01-02T03:04:05-05:00", 1_893_553_445.0 + 5 * 3600),
        ("2030-01-02T03:04:05.5+01:30", 1_893_553_445.5 - 5400),
    ])
    func parsesOffsetsAndFractions(_ text: String, _ seconds: Double) {
        let d = WireDate.parseISO8601(text)
        #expect(d.map { abs($0.timeIntervalSince1970 - seconds) < 0.001 } == true, "\(text)")
    }

    @Test(arguments: [
        "2030-01-02T03:04:05", "2030-01-02 03:04:05Z", "2030-01-02T03:04:05+0100", "2030-13-02T03:04:05Z",
    ])
    func refusesOtherForms(_ text: String) {
        #expect(WireDate.parseISO8601(text) == nil)
    }
}
