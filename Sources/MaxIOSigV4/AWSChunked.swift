import Crypto
import Foundation
import MaxIOCore
import NIOCore
import Synchronization

/// Trailing headers received at the end of an aws-chunked body, available once the body is consumed.
package final class TrailerBox: Sendable {
    private let storage = Mutex<[(String, String)]>([])
    package init() {}
    package var trailers: [(String, String)] { storage.withLock { $0 } }
    func set(_ t: [(String, String)]) { storage.withLock { $0 = t } }
    package func value(_ name: String) -> String? { trailers.first { $0.0 == name }?.1 }
}

/// Decodes an `aws-chunked` body (signed or unsigned, with or without trailers) as bytes arrive,
/// verifying each chunk signature when the payload is signed. Chunk data is passed on without copies.
package struct AWSChunkedDecoder<Base: AsyncSequence & Sendable>: AsyncSequence, Sendable
where Base.Element == ByteBuffer {
    package typealias Element = ByteBuffer
    let base: Base
    let signer: ChunkSigner?
    let expectTrailer: Bool
    let trailers: TrailerBox

    package init(base: Base, signer: ChunkSigner?, expectTrailer: Bool, trailers: TrailerBox) {
        self.base = base
        self.signer = signer
        self.expectTrailer = expectTrailer
        self.trailers = trailers
    }

    package func makeAsyncIterator() -> Iterator {
        Iterator(base: base.makeAsyncIterator(), signer: signer, expectTrailer: expectTrailer, trailers: trailers)
    }

    package struct Iterator: AsyncIteratorProtocol {
        enum State {
            case header
            case data(remaining: Int, signature: String?)
            case dataEnd(signature: String?)
            case trailer
            case done
        }

        var base: Base.AsyncIterator
        var signer: ChunkSigner?
        let expectTrailer: Bool
        let trailers: TrailerBox
        var buffer = ByteBuffer()
        var state = State.header
        var hasher = SHA256()
        var collectedTrailers: [(String, String)] = []
        static var maxLine: Int { 4096 }

        init(base: Base.AsyncIterator, signer: ChunkSigner?, expectTrailer: Bool, trailers: TrailerBox) {
            self.base = base
            self.signer = signer
            self.expectTrailer = expectTrailer
            self.trailers = trailers
        }

        /// Reads more input into `buffer`; throws incompleteBody at end of input.
        mutating func fill() async throws {
            guard var more = try await base.next() else {
                throw SignatureError(.incompleteBody)
            }
            if buffer.readableBytes == 0 {
                buffer = more
            } else {
                buffer.writeBuffer(&more)
            }
        }

        /// Reads one CRLF-terminated line (without the CRLF).
        mutating func line() async throws -> String {
            while true {
                let view = buffer.readableBytesView
                if let cr = view.firstIndex(of: UInt8(ascii: "\r")), cr + 1 < view.endIndex {
                    guard view[cr + 1] == UInt8(ascii: "\n") else { throw SignatureError(.malformedChunk) }
                    let len = cr - view.startIndex
                    let s = buffer.readString(length: len) ?? ""
                    buffer.moveReaderIndex(forwardBy: 2)
                    return s
                }
                guard buffer.readableBytes < Self.maxLine else { throw SignatureError(.malformedChunk) }
                try await fill()
            }
        }

        package mutating func next() async throws -> ByteBuffer? {
            while true {
                switch state {
                case .done:
                    return nil
                case .header:
                    let l = try await line()
                    let parts = l.split(separator: ";", maxSplits: 1)
                    guard let sizeText = parts.first,
                        let size = Int(sizeText.trimmingSpaces(), radix: 16),
                        size >= 0
                    else { throw SignatureError(.malformedChunk) }
                    var sig: String?
                    if parts.count == 2 {
                        let ext = parts[1]
                        if ext.hasPrefix("chunk-signature=") { sig = String(ext.dropFirst("chunk-signature=".count)) }
                    }
                    if signer != nil && sig == nil { throw SignatureError(.malformedChunk) }
                    hasher = SHA256()
                    if size == 0 {
                        try verifyChunk(signature: sig)
                        state = .trailer
                    } else {
                        state = .data(remaining: size, signature: sig)
                    }
                case .data(let remaining, let sig):
                    if buffer.readableBytes == 0 { try await fill() }
                    let n = Swift.min(remaining, buffer.readableBytes)
                    let slice = buffer.readSlice(length: n)!
                    if signer != nil { slice.update(&hasher) }
                    state = remaining == n ? .dataEnd(signature: sig) : .data(remaining: remaining - n, signature: sig)
                    return slice
                case .dataEnd(let sig):
                    while buffer.readableBytes < 2 { try await fill() }
                    guard buffer.readInteger(as: UInt16.self) == 0x0d0a else { throw SignatureError(.malformedChunk) }
                    try verifyChunk(signature: sig)
                    state = .header
                case .trailer:
                    // Trailer lines until an empty line (or end of input when no trailer was declared).
                    if !expectTrailer && buffer.readableBytes == 0 {
                        // Without a trailer the body ends with an empty line; tolerate its absence.
                        guard let more = try await base.next() else {
                            state = .done
                            return nil
                        }
                        buffer = more
                    }
                    let l = try await line()
                    if l.isEmpty {
                        try finishTrailers()
                        state = .done
                        return nil
                    }
                    guard let colon = l.firstIndex(of: ":") else { throw SignatureError(.malformedChunk) }
                    let name = l[..<colon].trimmingSpaces().lowercased()
                    let value = l[l.index(after: colon)...].trimmingSpaces()
                    collectedTrailers.append((name, value))
                }
            }
        }

        mutating func verifyChunk(signature: String?) throws {
            guard signer != nil, let signature else { return }
            let digest = Hex.encode(hasher.finalize())
            let expected = signer!.next(chunkSHA256Hex: digest)
            guard SigV4.constantTimeEquals(expected, signature.lowercased()) else {
                throw SignatureError(.signatureDoesNotMatch, "The chunk signature does not match.")
            }
        }

        mutating func finishTrailers() throws {
            var data = collectedTrailers.filter { $0.0 != "x-amz-trailer-signature" }
            if signer != nil && expectTrailer {
                guard let sig = collectedTrailers.first(where: { $0.0 == "x-amz-trailer-signature" })?.1 else {
                    throw SignatureError(.signatureDoesNotMatch, "The trailer signature is missing.")
                }
                let canonical = data.map { "\($0.0):\($0.1)\n" }.joined()
                let expected = signer!.trailer(canonicalTrailers: canonical)
                guard SigV4.constantTimeEquals(expected, sig.lowercased()) else {
                    throw SignatureError(.signatureDoesNotMatch, "The trailer signature does not match.")
                }
            }
            data.sort { $0.0 < $1.0 }
            trailers.set(data)
        }
    }
}
