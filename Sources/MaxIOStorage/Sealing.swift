import CMaxIOCipher
import Crypto
import Foundation
import MaxIOCore
import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// How a blob's bytes lie on disk.
package enum BlobSealing: Sendable, Equatable {
    /// As the client sent them.
    case plain
    /// Encrypted with a data key of its own, wrapped by the server's key (SSE-S3, encryption at rest).
    case server
    /// Encrypted with a data key wrapped by a key the client sends with every request (SSE-C). The key is
    /// never stored; the catalog keeps a salted HMAC of it (`CustomerKey.verifier`).
    case customer([UInt8])
}

extension ObjectMeta {
    /// Records `sealing` in the metadata, as the response headers show it.
    package mutating func record(_ sealing: BlobSealing) {
        switch sealing {
        case .plain:
            sse = nil
            sseCustomerVerifier = nil
        case .server:
            sse = SSEAlgorithm.aes256
            sseCustomerVerifier = nil
        case .customer(let key):
            sse = nil
            sseCustomerVerifier = CustomerKey.verifier(key)
        }
    }
}

package enum SSEAlgorithm {
    package static let aes256 = "AES256"
}

/// Customer-provided keys (SSE-C): 256-bit AES keys the client sends with each request.
package enum CustomerKey {
    static let context = Array("maxiofs sse-c verifier v1".utf8)

    /// A salted HMAC of `key`: what the catalog keeps to recognise it on later requests (never the key).
    package static func verifier(_ key: [UInt8]) -> String {
        var salt = [UInt8](repeating: 0, count: 16)
        for i in salt.indices { salt[i] = UInt8.random(in: 0...255) }
        return Data(salt + mac(key, salt: salt)).base64EncodedString()
    }

    /// Whether `key` is the one `verifier` was made from.
    package static func matches(_ key: [UInt8], verifier: String) -> Bool {
        guard let d = Data(base64Encoded: verifier), d.count == 48 else { return false }
        let bytes = Array(d)
        return constantTimeEqual(Array(bytes[16...]), mac(key, salt: Array(bytes[..<16])))
    }

    static func mac(_ key: [UInt8], salt: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: context + salt, using: SymmetricKey(data: key)))
    }

    /// The ETag of an object (or part) sealed with a customer key: not the MD5 of its bytes (as AWS, which
    /// would let anyone who can list compare contents), but stable and 32 hex digits.
    package static func etag(md5: [UInt8], key: [UInt8]) -> [UInt8] {
        Array(
            HMAC<SHA256>.authenticationCode(for: Array("maxiofs sse-c etag".utf8) + md5, using: SymmetricKey(data: key))
        )
        .prefix(16).map { $0 }
    }

    /// The key-encryption key derived from a customer key.
    static func kek(_ key: [UInt8]) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: key), salt: Array("maxiofs".utf8),
            info: Array("sse-c kek v1".utf8), outputByteCount: 32)
    }
}

/// The server's keys for sealing blobs, derived from master keys: the current one wraps new data keys,
/// earlier ones (during a rotation) still unwrap.
package struct BlobKeyring: Sendable {
    package struct Key: Sendable {
        /// 8 bytes naming the key in blob headers (derived from it; reveals nothing of it).
        package let id: [UInt8]
        let kek: SymmetricKey
    }
    package let current: Key
    package let previous: [Key]

    /// `master`: 32 bytes; `previous`: master keys being rotated out.
    package init(master: [UInt8], previous: [[UInt8]] = []) {
        let current = Self.derive(master)
        self.current = current
        self.previous = previous.map(Self.derive).filter { $0.id != current.id }
    }

    static func derive(_ master: [UInt8]) -> Key {
        let input = SymmetricKey(data: master)
        let kek = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: input, salt: Array("maxiofs".utf8), info: Array("blob kek v1".utf8), outputByteCount: 32)
        let id = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: input, salt: Array("maxiofs".utf8), info: Array("blob key id v1".utf8),
            outputByteCount: 8)
        return Key(id: id.withUnsafeBytes { Array($0) }, kek: kek)
    }

    func key(id: [UInt8]) -> Key? {
        if id == current.id { return current }
        return previous.first { $0.id == id }
    }

    /// The id of the current key, hex (for `maxiofs admin info` and logs).
    package var currentID: String { Hex.encode(current.id) }
}

/// Failures to open a sealed blob: damaged or tampered data, or a key the server does not have.
package struct SealError: Error, Sendable, Equatable, CustomStringConvertible {
    package let message: String
    package var description: String { message }
}

/// The on-disk form of a sealed blob: an 80-byte header, then the data in 64 KiB chunks, each encrypted
/// with AES-256-GCM under the blob's own data key (nonce: the chunk index; the last chunk is marked, so
/// neither truncation nor reordering goes unnoticed). A range read decrypts only the chunks it touches.
///
///     0  "MXB1"   4  kind (1 server key, 2 customer key)   5  log2(chunk) = 16   6  reserved (2)
///     8  key id (8; zero for customer keys)   16  wrap nonce (12)   28  wrapped data key (32)   60  tag (16)
///     76 reserved (4)
///
/// The data key is wrapped with AES-GCM under the key-encryption key, authenticating the header's first
/// 16 bytes and the blob id, so a header moved to another blob does not open. Rotating the server key
/// rewrites only the header (`BlobKeyring`, `FileBlobStore.rewrap`).
package enum SealedLayout {
    package static let headerSize = 80
    package static let chunkSize = 1 << 16
    static let tagSize = 16
    static let magic: [UInt8] = Array("MXB1".utf8)
    static let kindServer: UInt8 = 1
    static let kindCustomer: UInt8 = 2

    /// Bytes on disk of a sealed blob of `plain` bytes (an empty blob is one empty, tagged chunk).
    package static func sealedSize(plain: Int64) -> Int64 {
        let chunks = max(1, (plain + Int64(chunkSize) - 1) / Int64(chunkSize))
        return Int64(headerSize) + plain + chunks * Int64(tagSize)
    }

    /// The plaintext size of a sealed blob of `sealed` bytes on disk; nil when no plaintext has that size.
    package static func plainSize(sealed: Int64) -> Int64? {
        let body = sealed - Int64(headerSize)
        guard body >= Int64(tagSize) else { return nil }
        let full = Int64(chunkSize + tagSize)
        let whole = body / full
        let rest = body % full
        if rest == 0 { return whole * Int64(chunkSize) }
        guard rest >= Int64(tagSize) else { return nil }
        return whole * Int64(chunkSize) + rest - Int64(tagSize)
    }

    static func aad(header: ArraySlice<UInt8>, blobID: String) -> [UInt8] { Array(header) + Array(blobID.utf8) }

    /// A new header for blob `id`: a fresh data key, wrapped for `sealing`. Returns the header and the key.
    static func newHeader(for sealing: BlobSealing, id: String, keyring: BlobKeyring?) throws -> (
        header: [UInt8], key: SymmetricKey
    ) {
        let dataKey = SymmetricKey(size: .bits256)
        let header = try wrap(dataKey, for: sealing, id: id, keyring: keyring)
        return (header, dataKey)
    }

    /// The header holding `dataKey` wrapped for `sealing`.
    static func wrap(_ dataKey: SymmetricKey, for sealing: BlobSealing, id: String, keyring: BlobKeyring?) throws
        -> [UInt8]
    {
        var h = magic + [0, 16, 0, 0] + [UInt8](repeating: 0, count: 8)
        let kek: SymmetricKey
        switch sealing {
        case .plain: throw SealError(message: "a plain blob has no header")
        case .server:
            guard let keyring else { throw SealError(message: "no server key is configured") }
            h[4] = kindServer
            h.replaceSubrange(8..<16, with: keyring.current.id)
            kek = keyring.current.kek
        case .customer(let key):
            h[4] = kindCustomer
            kek = CustomerKey.kek(key)
        }
        let box = try dataKey.withUnsafeBytes { raw in
            try AES.GCM.seal(raw, using: kek, nonce: AES.GCM.Nonce(), authenticating: aad(header: h[...], blobID: id))
        }
        h += Array(box.nonce) + Array(box.ciphertext) + Array(box.tag) + [0, 0, 0, 0]
        precondition(h.count == headerSize)
        return h
    }

    /// The data key in `header` of blob `id`, opened for `sealing`.
    static func unwrap(_ header: [UInt8], for sealing: BlobSealing, id: String, keyring: BlobKeyring?) throws
        -> SymmetricKey
    {
        guard header.count == headerSize, Array(header[0..<4]) == magic, header[5] == 16 else {
            throw SealError(message: "blob \(id) is not a sealed blob of this format")
        }
        let kek: SymmetricKey
        switch sealing {
        case .plain: throw SealError(message: "blob \(id) is sealed but the catalog says it is not")
        case .server:
            guard header[4] == kindServer else { throw SealError(message: "blob \(id) is not sealed by a server key") }
            let keyID = Array(header[8..<16])
            guard let key = keyring?.key(id: keyID) else {
                throw SealError(
                    message:
                        "blob \(id) is sealed with server key \(Hex.encode(keyID)), which this server does not have (was the master key changed without listing the old one in encryption.previous_master_keys?)"
                )
            }
            kek = key.kek
        case .customer(let key):
            guard header[4] == kindCustomer else {
                throw SealError(message: "blob \(id) is not sealed by a customer key")
            }
            kek = CustomerKey.kek(key)
        }
        do {
            let box = try AES.GCM.SealedBox(
                nonce: AES.GCM.Nonce(data: header[16..<28]), ciphertext: header[28..<60], tag: header[60..<76])
            let raw = try AES.GCM.open(box, using: kek, authenticating: aad(header: header[0..<16], blobID: id))
            return SymmetricKey(data: raw)
        } catch {
            throw SealError(message: "blob \(id): its data key does not open (wrong key, or a damaged header)")
        }
    }

    /// The id of the server key a sealed header names; nil for customer-key headers or other data.
    package static func serverKeyID(_ header: [UInt8]) -> [UInt8]? {
        guard header.count >= headerSize, Array(header[0..<4]) == magic, header[4] == kindServer else { return nil }
        return Array(header[8..<16])
    }

    /// Whether `header` begins a sealed blob.
    package static func isSealed(_ header: some Collection<UInt8>) -> Bool { Array(header.prefix(4)) == magic }
}

/// One AES-256-GCM key, expanded once, sealing and opening chunks directly on the caller's buffers
/// (`CMaxIOCipher`, the BoringSSL swift-crypto links; swift-crypto's API copies each chunk in and out of a
/// `Data`). Used by one reader or writer at a time.
final class ChunkCipher: @unchecked Sendable {
    private let ctx: OpaquePointer

    init(key: SymmetricKey) throws {
        guard let ctx = key.withUnsafeBytes({ maxio_gcm_new($0.baseAddress!.assumingMemoryBound(to: UInt8.self)) })
        else { throw SealError(message: "cannot set up AES-256-GCM") }
        self.ctx = ctx
    }

    deinit { maxio_gcm_free(ctx) }

    static func nonce(_ index: UInt64) -> [UInt8] {
        var n = [UInt8](repeating: 0, count: 12)
        for k in 0..<8 { n[4 + k] = UInt8(truncatingIfNeeded: index >> (56 - 8 * UInt64(k))) }
        return n
    }

    /// Seals `input` as chunk `index` into `out` (`input.count` + 16 bytes).
    func seal(_ input: UnsafeRawBufferPointer, index: UInt64, last: Bool, into out: UnsafeMutableRawPointer) throws {
        let nonce = Self.nonce(index)
        var ad: UInt8 = last ? 1 : 0
        let ok = maxio_gcm_seal(
            ctx, nonce, &ad, 1, input.baseAddress?.assumingMemoryBound(to: UInt8.self), input.count,
            out.assumingMemoryBound(to: UInt8.self))
        guard ok == 1 else { throw SealError(message: "AES-256-GCM seal failed") }
    }

    /// Opens chunk `index` (`plainCount` + 16 bytes at `input`) into `out` (`plainCount` bytes).
    func open(_ input: UnsafeRawPointer, plainCount: Int, index: UInt64, last: Bool, into out: UnsafeMutableRawPointer)
        throws
    {
        let nonce = Self.nonce(index)
        var ad: UInt8 = last ? 1 : 0
        let ok = maxio_gcm_open(
            ctx, nonce, &ad, 1, input.assumingMemoryBound(to: UInt8.self), plainCount,
            out.assumingMemoryBound(to: UInt8.self))
        guard ok == 1 else {
            throw SealError(message: "chunk \(index) of a sealed blob does not authenticate (damaged or tampered)")
        }
    }
}

/// Encrypts a blob's bytes as they stream in. Holds back up to one chunk: a chunk is sealed only when
/// more bytes follow (or at `finish`, as the last).
struct ChunkSealer {
    let cipher: ChunkCipher
    var staged: [UInt8] = []
    var index: UInt64 = 0

    init(key: SymmetricKey) throws {
        cipher = try ChunkCipher(key: key)
        staged.reserveCapacity(SealedLayout.chunkSize)
    }

    /// Appends to `out` the sealed chunks `raw` completes.
    mutating func feed(_ raw: UnsafeRawBufferPointer, into out: inout ByteBuffer) throws {
        var offset = 0
        while offset < raw.count {
            if staged.count == SealedLayout.chunkSize {
                try seal(last: false, into: &out)
            }
            let n = min(SealedLayout.chunkSize - staged.count, raw.count - offset)
            staged.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + n)]))
            offset += n
        }
    }

    /// Seals what is staged as the last chunk.
    mutating func finish(into out: inout ByteBuffer) throws {
        try seal(last: true, into: &out)
    }

    private mutating func seal(last: Bool, into out: inout ByteBuffer) throws {
        let n = staged.count + SealedLayout.tagSize
        let cipher = self.cipher
        let index = self.index
        try staged.withUnsafeBytes { input in
            _ = try out.writeWithUnsafeMutableBytes(minimumWritableBytes: n) { ptr in
                try cipher.seal(input, index: index, last: last, into: ptr.baseAddress!)
                return n
            }
        }
        staged.removeAll(keepingCapacity: true)
        self.index += 1
    }
}

/// Decrypts chunks of a sealed blob.
struct ChunkOpener: Sendable {
    let cipher: ChunkCipher
    /// Plaintext bytes of the blob.
    let size: Int64

    init(key: SymmetricKey, size: Int64) throws {
        cipher = try ChunkCipher(key: key)
        self.size = size
    }

    var chunkCount: Int64 { max(1, (size + Int64(SealedLayout.chunkSize) - 1) / Int64(SealedLayout.chunkSize)) }

    /// Where chunk `i` starts on disk.
    static func sealedOffset(chunk i: Int64) -> Int64 {
        Int64(SealedLayout.headerSize) + i * Int64(SealedLayout.chunkSize + SealedLayout.tagSize)
    }

    /// The sealed bytes to read for plaintext `offset..<offset+length` (clamped to the blob): the first chunk
    /// index, and the range on disk.
    func span(offset: Int64, length: Int) -> (first: Int64, disk: Range<Int64>)? {
        let end = min(size, offset + Int64(length))
        guard offset < end || (size == 0 && offset == 0) else { return nil }
        let first = offset / Int64(SealedLayout.chunkSize)
        let last = max(first, (end - 1) / Int64(SealedLayout.chunkSize))
        let lastPlain = min(Int64(SealedLayout.chunkSize), size - last * Int64(SealedLayout.chunkSize))
        let diskEnd = Self.sealedOffset(chunk: last) + max(0, lastPlain) + Int64(SealedLayout.tagSize)
        return (first, Self.sealedOffset(chunk: first)..<diskEnd)
    }

    /// Decrypts the chunks in `sealed` (read from `span`) and appends plaintext `offset..<offset+length` of
    /// the blob to `out`: whole chunks straight into it, the partial first and last ones through a scratch
    /// buffer (a chunk authenticates only whole).
    func open(_ sealed: UnsafeRawBufferPointer, first: Int64, offset: Int64, length: Int, into out: inout ByteBuffer)
        throws
    {
        let end = min(size, offset + Int64(length))
        var chunk = first
        var at = 0
        let count = chunkCount
        var scratch: [UInt8] = []
        while at < sealed.count {
            let plainStart = chunk * Int64(SealedLayout.chunkSize)
            let plainLen = Int(min(Int64(SealedLayout.chunkSize), size - plainStart))
            guard at + plainLen + SealedLayout.tagSize <= sealed.count else {
                throw SealError(message: "sealed blob shorter than its record")
            }
            let from = Int(max(offset, plainStart) - plainStart)
            let to = Int(min(end, plainStart + Int64(plainLen)) - plainStart)
            let input = sealed.baseAddress! + at
            let last = chunk == count - 1
            if from == 0 && to == plainLen {
                if plainLen == 0 {
                    var none: UInt8 = 0
                    try cipher.open(input, plainCount: 0, index: UInt64(chunk), last: last, into: &none)
                } else {
                    _ = try out.writeWithUnsafeMutableBytes(minimumWritableBytes: plainLen) { ptr in
                        try cipher.open(
                            input, plainCount: plainLen, index: UInt64(chunk), last: last, into: ptr.baseAddress!)
                        return plainLen
                    }
                }
            } else {
                if scratch.count < plainLen { scratch = [UInt8](repeating: 0, count: plainLen) }
                try scratch.withUnsafeMutableBytes { s in
                    try cipher.open(input, plainCount: plainLen, index: UInt64(chunk), last: last, into: s.baseAddress!)
                    if to > from { out.writeBytes(UnsafeRawBufferPointer(rebasing: s[from..<to])) }
                }
            }
            at += plainLen + SealedLayout.tagSize
            chunk += 1
        }
    }
}

/// What `FileBlobStore.rewrapSync` did to one blob.
package enum RewrapOutcome: Sendable, Equatable {
    /// Its data key is now wrapped by the current server key.
    case rewrapped
    /// It was already.
    case current
    /// Plain, or sealed with a customer key (only its owner's key opens it).
    case notServerSealed
    /// Sealed with a server key this server does not have.
    case unknownKey(String)
}

extension FileBlobStore {
    /// Wraps the data key of a server-sealed blob with the current server key, rewriting only its 80-byte header
    /// in place (a single small write, fsynced in durable mode); the data is not touched.
    package func rewrapSync(_ id: String) throws -> RewrapOutcome {
        guard let keyring else { throw SealError(message: "no server key is configured") }
        let fd = Glibc.open(path(of: id), O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw StorageError.io("open blob \(id): \(String(cString: strerror(errno)))") }
        defer { Glibc.close(fd) }
        // The file keeps its modification time: start-up collects unreferenced blobs by it.
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw StorageError.io("fstat blob \(id): \(String(cString: strerror(errno)))")
        }
        let buffer = try preadSync(fd: fd, offset: 0, length: SealedLayout.headerSize)
        let header = buffer.getBytes(at: buffer.readerIndex, length: buffer.readableBytes) ?? []
        guard let keyID = SealedLayout.serverKeyID(header) else { return .notServerSealed }
        if keyID == keyring.current.id { return .current }
        guard keyring.key(id: keyID) != nil else { return .unknownKey(Hex.encode(keyID)) }
        let dataKey = try SealedLayout.unwrap(header, for: .server, id: id, keyring: keyring)
        let fresh = try SealedLayout.wrap(dataKey, for: .server, id: id, keyring: keyring)
        let written = fresh.withUnsafeBytes { pwrite(fd, $0.baseAddress!, $0.count, 0) }
        guard written == fresh.count else {
            throw StorageError.io("rewrite header of blob \(id): \(String(cString: strerror(errno)))")
        }
        var times = [st.st_atim, st.st_mtim]
        _ = futimens(fd, &times)
        if durable && fsync(fd) != 0 { throw StorageError.io("fsync: \(String(cString: strerror(errno)))") }
        return .rewrapped
    }
}
