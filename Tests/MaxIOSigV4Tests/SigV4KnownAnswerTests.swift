import Foundation
import MaxIOCore
import NIOCore
import Testing

@testable import MaxIOSigV4

/// Known-answer tests from AWS's published Signature Version 4 examples for S3
/// ("Examples: Signature Calculations in AWS Signature Version 4" and the streaming examples),
/// so the verifier cannot share a bug with our own signer.
@Suite struct SigV4KnownAnswerTests {
    static let accessKey = "AKIAIOSFODNN7EXAMPLE"
    static let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    static let now = Date(timeIntervalSince1970: 1_369_353_600)  // 2013-05-24T00:00:00Z
    static let emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    func request(
        _ method: String, _ path: String, query: String = "", headers: [(String, String)], signedHeaders: String,
        signature: String
    ) -> SignableRequest {
        var h = headers.map { (name: $0.0, value: $0.1) }
        h.append(
            (
                "authorization",
                "AWS4-HMAC-SHA256 Credential=\(Self.accessKey)/20130524/us-east-1/s3/aws4_request,SignedHeaders=\(signedHeaders),Signature=\(signature)"
            ))
        return SignableRequest(method: method, rawPath: path, rawQuery: query, headers: h)
    }

    func verify(_ r: SignableRequest) throws -> VerifiedAuth {
        let parsed = try SigV4.parse(r, now: Self.now)
        return try SigV4.verify(parsed, secret: Self.secret, request: r, region: "us-east-1")
    }

    @Test func getObjectWithRange() throws {
        let r = request(
            "GET", "/test.txt",
            headers: [
                ("host", "examplebucket.s3.amazonaws.com"), ("range", "bytes=0-9"),
                ("x-amz-content-sha256", Self.emptyHash), ("x-amz-date", "20130524T000000Z"),
            ], signedHeaders: "host;range;x-amz-content-sha256;x-amz-date",
            signature: "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        let v = try verify(r)
        #expect(v.accessKey == Self.accessKey)
        #expect(v.payload == .signed(sha256Hex: Self.emptyHash))
    }

    @Test func putObjectWithEncodedKey() throws {
        let r = request(
            "PUT", "/test%24file.text",
            headers: [
                ("host", "examplebucket.s3.amazonaws.com"), ("date", "Fri, 24 May 2013 00:00:00 GMT"),
                ("x-amz-date", "20130524T000000Z"), ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
                ("x-amz-content-sha256", "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"),
            ], signedHeaders: "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
            signature: "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")
        _ = try verify(r)
    }

    @Test func getBucketLifecycle() throws {
        let r = request(
            "GET", "/", query: "lifecycle",
            headers: [
                ("host", "examplebucket.s3.amazonaws.com"), ("x-amz-date", "20130524T000000Z"),
                ("x-amz-content-sha256", Self.emptyHash),
            ], signedHeaders: "host;x-amz-content-sha256;x-amz-date",
            signature: "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")
        _ = try verify(r)
    }

    @Test func listObjectsQuerySorted() throws {
        let r = request(
            "GET", "/", query: "max-keys=2&prefix=J",
            headers: [
                ("host", "examplebucket.s3.amazonaws.com"), ("x-amz-date", "20130524T000000Z"),
                ("x-amz-content-sha256", Self.emptyHash),
            ], signedHeaders: "host;x-amz-content-sha256;x-amz-date",
            signature: "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
        _ = try verify(r)
    }

    @Test func tamperedSignatureIsRejectedWithCanonicalRequest() throws {
        let r = request(
            "GET", "/test.txt",
            headers: [
                ("host", "examplebucket.s3.amazonaws.com"), ("range", "bytes=0-10"),
                ("x-amz-content-sha256", Self.emptyHash), ("x-amz-date", "20130524T000000Z"),
            ], signedHeaders: "host;range;x-amz-content-sha256;x-amz-date",
            signature: "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        do {
            _ = try verify(r)
            Issue.record("a changed Range header must not verify")
        } catch let e as SignatureError {
            #expect(e.code == .signatureDoesNotMatch)
            #expect(e.canonicalRequest?.contains("range:bytes=0-10\n") == true)
            #expect(
                e.stringToSign?.hasPrefix("AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n")
                    == true)
        }
    }

    static let presignedQuery =
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"

    @Test func presignedGet() throws {
        let r = SignableRequest(
            method: "GET", rawPath: "/test.txt", rawQuery: Self.presignedQuery,
            headers: [("host", "examplebucket.s3.amazonaws.com")])
        let parsed = try SigV4.parse(r, now: Self.now.addingTimeInterval(3600))
        #expect(parsed.presigned)
        let v = try SigV4.verify(parsed, secret: Self.secret, request: r, region: "us-east-1")
        #expect(v.payload == .unsigned)
    }

    @Test func presignedExpired() throws {
        let r = SignableRequest(
            method: "GET", rawPath: "/test.txt", rawQuery: Self.presignedQuery,
            headers: [("host", "examplebucket.s3.amazonaws.com")])
        #expect(throws: SignatureError(.requestExpired, "Request has expired")) {
            _ = try SigV4.parse(r, now: Self.now.addingTimeInterval(86401))
        }
    }

    @Test func skewedDateIsRejected() throws {
        let r = request(
            "GET", "/test.txt",
            headers: [
                ("host", "examplebucket.s3.amazonaws.com"), ("x-amz-content-sha256", Self.emptyHash),
                ("x-amz-date", "20130524T000000Z"),
            ], signedHeaders: "host;x-amz-content-sha256;x-amz-date", signature: "00")
        #expect(throws: SignatureError(.requestTimeTooSkewed)) {
            _ = try SigV4.parse(r, now: Self.now.addingTimeInterval(16 * 60))
        }
    }

    @Test func wrongRegionIsMalformed() throws {
        let r = request(
            "GET", "/test.txt",
            headers: [
                ("host", "examplebucket.s3.amazonaws.com"), ("x-amz-content-sha256", Self.emptyHash),
                ("x-amz-date", "20130524T000000Z"),
            ], signedHeaders: "host;x-amz-content-sha256;x-amz-date", signature: "00")
        let parsed = try SigV4.parse(r, now: Self.now)
        do {
            _ = try SigV4.verify(parsed, secret: Self.secret, request: r, region: "eu-west-1")
            Issue.record("a us-east-1 scope must not verify in eu-west-1")
        } catch let e {
            #expect(e.code == .authorizationHeaderMalformed)
        }
    }

    @Test(arguments: [
        "AWS4-HMAC-SHA256 Credential=foo",
        "AWS4-HMAC-SHA256 Credential=AK/2013/us-east-1/s3/aws4_request,SignedHeaders=host,Signature=00",
        "AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/ec2/aws4_request,SignedHeaders=host,Signature=00",
    ])
    func malformedAuthorization(_ header: String) throws {
        let r = SignableRequest(
            method: "GET", rawPath: "/", rawQuery: "",
            headers: [
                ("host", "h"), ("x-amz-date", "20130524T000000Z"), ("x-amz-content-sha256", Self.emptyHash),
                ("authorization", header),
            ])
        do {
            _ = try SigV4.parse(r, now: Self.now)
            Issue.record("must not parse")
        } catch let e {
            #expect(e.code == .authorizationHeaderMalformed)
        }
    }

    // MARK: streaming

    static let chunkHeaders: [(name: String, value: String)] = [
        ("host", "s3.amazonaws.com"), ("x-amz-date", "20130524T000000Z"),
        ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"), ("content-encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", "66560"), ("content-length", "66824"),
        (
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
        ),
    ]

    static let chunkSignatures = [
        "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
        "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
        "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
    ]

    static func chunkedBody(_ sigs: [String], trailer: String = "") -> [UInt8] {
        var out = [UInt8]()
        for (size, sig) in zip([65536, 1024, 0], sigs) {
            out += Array("\(String(size, radix: 16));chunk-signature=\(sig)\r\n".utf8)
            out += [UInt8](repeating: UInt8(ascii: "a"), count: size)
            if size > 0 { out += Array("\r\n".utf8) }
        }
        out += Array(trailer.utf8)
        out += Array("\r\n".utf8)
        return out
    }

    /// Feeds the body in pieces of `piece` bytes, so parsing must work across buffer boundaries.
    static func decode(
        _ body: [UInt8], piece: Int, signer: ChunkSigner?, trailer: Bool, box: TrailerBox = TrailerBox()
    ) async throws -> [UInt8] {
        let pieces = stride(from: 0, to: body.count, by: piece).map {
            ByteBuffer(bytes: body[$0..<min($0 + piece, body.count)])
        }
        let decoder = AWSChunkedDecoder(
            base: AsyncStreamOfBuffers(pieces), signer: signer, expectTrailer: trailer, trailers: box)
        var out = [UInt8]()
        for try await b in decoder { out += Array(b.readableBytesView) }
        return out
    }

    @Test func streamingSeedSignatureVerifies() throws {
        let r = SignableRequest(
            method: "PUT", rawPath: "/examplebucket/chunkObject.txt", rawQuery: "", headers: Self.chunkHeaders)
        let v = try verify(r)
        #expect(v.payload == .streamingSigned(trailer: false))
        #expect(v.chunkSigner?.previous == "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9")
    }

    @Test(arguments: [7, 4096, 70000])
    func streamingChunksDecodeAndVerify(piece: Int) async throws {
        let r = SignableRequest(
            method: "PUT", rawPath: "/examplebucket/chunkObject.txt", rawQuery: "", headers: Self.chunkHeaders)
        let v = try verify(r)
        let out = try await Self.decode(
            Self.chunkedBody(Self.chunkSignatures), piece: piece, signer: v.chunkSigner, trailer: false)
        #expect(out == [UInt8](repeating: UInt8(ascii: "a"), count: 66560))
    }

    @Test func corruptedChunkSignatureFails() async throws {
        let r = SignableRequest(
            method: "PUT", rawPath: "/examplebucket/chunkObject.txt", rawQuery: "", headers: Self.chunkHeaders)
        let v = try verify(r)
        var sigs = Self.chunkSignatures
        sigs[1] = String(sigs[1].dropLast()) + "0"
        await #expect(throws: SignatureError.self) {
            _ = try await Self.decode(Self.chunkedBody(sigs), piece: 1000, signer: v.chunkSigner, trailer: false)
        }
    }

    @Test func truncatedChunkedBodyFails() async throws {
        let body = Array(Self.chunkedBody(Self.chunkSignatures).prefix(30000))
        await #expect(throws: SignatureError(.incompleteBody)) {
            _ = try await Self.decode(body, piece: 4096, signer: nil, trailer: false)
        }
    }

    /// AWS's "signed payload with trailer" example.
    @Test func streamingSignedTrailer() async throws {
        let key = SigV4.signingKey(secret: Self.secret, date: "20130524", region: "us-east-1", service: "s3")
        let signer = ChunkSigner(
            key: key, amzDate: "20130524T000000Z", scope: "20130524/us-east-1/s3/aws4_request",
            seed: "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e")
        let sigs = [
            "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
            "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
            "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
        ]
        let trailer =
            "x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n"
        let box = TrailerBox()
        let out = try await Self.decode(
            Self.chunkedBody(sigs, trailer: trailer), piece: 5000, signer: signer, trailer: true, box: box)
        #expect(out.count == 66560)
        #expect(box.value("x-amz-checksum-crc32c") == "sOO8/Q==")
    }

    @Test func unsignedTrailer() async throws {
        var body = Array("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n".utf8)
        let box = TrailerBox()
        let out = try await Self.decode(body, piece: 3, signer: nil, trailer: true, box: box)
        #expect(out == Array("hello".utf8))
        #expect(box.value("x-amz-checksum-crc32") == "NhCmhg==")
        body = Array("5\r\nhello\r\n0\r\n".utf8)
        await #expect(throws: SignatureError(.incompleteBody)) {
            _ = try await Self.decode(body, piece: 3, signer: nil, trailer: true)
        }
    }
}

/// A fixed list of buffers as an AsyncSequence.
struct AsyncStreamOfBuffers: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let buffers: [ByteBuffer]
    init(_ b: [ByteBuffer]) { buffers = b }
    func makeAsyncIterator() -> Iterator { Iterator(buffers: buffers) }
    struct Iterator: AsyncIteratorProtocol {
        var buffers: [ByteBuffer]
        var i = 0
        mutating func next() async throws -> ByteBuffer? {
            guard i < buffers.count else { return nil }
            defer { i += 1 }
            return buffers[i]
        }
    }
}
