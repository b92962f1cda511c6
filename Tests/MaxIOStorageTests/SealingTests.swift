import Crypto
import Foundation
import Logging
import MaxIOCore
import NIOCore
import Testing

@testable import MaxIOSQLite
@testable import MaxIOStorage

/// Sealed blobs: sizes, chunk boundaries on both write paths, range reads, tampering and keys.
@Suite struct SealingTests {
    static let master = [UInt8](repeating: 7, count: 32)
    static let sizes: [Int] = [0, 1, 65535, 65536, 65537, 131072, 200_001]

    static func bytes(_ n: Int, seed: UInt8 = 1) -> [UInt8] {
        (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed) &+ ($0 >> 8)) }
    }

    static func store(_ dir: String, keyring: BlobKeyring? = BlobKeyring(master: master)) throws -> FileBlobStore {
        try FileBlobStore(root: dir, durable: false, keyring: keyring, threads: 2)
    }

    static func tempDir() throws -> String {
        let dir = NSTemporaryDirectory() + "maxiofs-seal-" + randomHexID(bytes: 6)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Writes `data` as a sealed blob through the streaming writer, in pieces of `piece` bytes.
    static func writeStreamed(
        _ store: FileBlobStore, _ data: [UInt8], piece: Int, sealing: BlobSealing, compression: Int? = nil
    ) async throws -> String {
        let w = try await store.create(hashSHA256: false, checksum: nil, sealing: sealing, compression: compression)
        var i = 0
        while i < data.count {
            let n = min(piece, data.count - i)
            try await w.write(ByteBuffer(bytes: data[i..<(i + n)]))
            i += n
        }
        let digests = try await w.finish()
        #expect(digests.size == Int64(data.count))
        #expect(Hex.encode(digests.md5) == Digest.md5Hex(data))
        try await w.commit()
        return w.id
    }

    static func readAll(_ store: FileBlobStore, _ id: String, sealing: BlobSealing, compressed: Bool = false)
        async throws -> [UInt8]
    {
        guard let r = try await store.open(id, sealing: sealing, compressed: compressed) else {
            throw StorageError.noSuchKey
        }
        defer { Task { await r.close() } }
        var out: [UInt8] = []
        var offset: Int64 = 0
        while offset < r.size {
            let b = try await r.read(offset: offset, length: 100_000)
            #expect(b.readableBytes > 0)
            out += b.getBytes(at: b.readerIndex, length: b.readableBytes) ?? []
            offset += Int64(b.readableBytes)
        }
        return out
    }

    @Test func sizeArithmeticRoundTrips() {
        for n in [0, 1, 15, 16, 65535, 65536, 65537, 131071, 131072, 131073, 10_000_000] as [Int64] {
            let sealed = SealedLayout.sealedSize(plain: n)
            #expect(SealedLayout.plainSize(sealed: sealed) == n, "size \(n)")
        }
        // Sizes no sealed blob has: shorter than header + tag, or a last chunk shorter than its tag.
        #expect(SealedLayout.plainSize(sealed: 80) == nil)
        #expect(SealedLayout.plainSize(sealed: 95) == nil)
        #expect(SealedLayout.plainSize(sealed: 80 + 65552 + 5) == nil)
    }

    @Test(arguments: sizes) func streamedAndWholeWritesReadBack(size: Int) async throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try Self.store(dir)
        let data = Self.bytes(size)
        for piece in [1000, 65536, 70000] {
            let id = try await Self.writeStreamed(store, data, piece: piece, sealing: .server)
            let onDisk = try Data(contentsOf: URL(fileURLWithPath: store.path(of: id)))
            #expect(Int64(onDisk.count) == SealedLayout.sealedSize(plain: Int64(size)))
            #expect(Array(onDisk.prefix(4)) == Array("MXB1".utf8))
            #expect(try await Self.readAll(store, id, sealing: .server) == data)
        }
        let (id, digests) = try store.writeWholeSync(
            ByteBuffer(bytes: data), hashSHA256: false, checksum: nil, sealing: .server, validate: { _ in })
        #expect(digests.size == Int64(size))
        #expect(try await Self.readAll(store, id, sealing: .server) == data)
    }

    /// The chunks are standard AES-256-GCM: swift-crypto's own implementation opens what the C path sealed
    /// (nonce = 4 zero bytes and the big-endian chunk index; additional data 1 for the last chunk, else 0).
    @Test func chunksAreStandardAESGCM() async throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try Self.store(dir)
        let data = Self.bytes(65536 + 100)
        let id = try await Self.writeStreamed(store, data, piece: 5000, sealing: .server)
        let file = [UInt8](try Data(contentsOf: URL(fileURLWithPath: store.path(of: id))))
        let key = try SealedLayout.unwrap(
            Array(file[0..<80]), for: .server, id: id, keyring: BlobKeyring(master: Self.master))
        for (index, range, last) in [(0, 80..<(80 + 65536 + 16), false), (1, (80 + 65552)..<file.count, true)] {
            let chunk = Array(file[range])
            let nonce = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, UInt8(index)] as [UInt8]
            let box = try AES.GCM.SealedBox(
                nonce: AES.GCM.Nonce(data: nonce), ciphertext: chunk.dropLast(16), tag: chunk.suffix(16))
            let plain = try AES.GCM.open(box, using: key, authenticating: [last ? 1 : 0] as [UInt8])
            #expect(Array(plain) == Array(data[(index * 65536)..<min(data.count, (index + 1) * 65536)]))
        }
    }

    /// Compressed blobs, plain and sealed: compressible and incompressible data, sizes around chunk
    /// boundaries, every range; the compressed form of compressible data is smaller on disk.
    @Test(arguments: [BlobSealing.plain, .server]) func compressedBlobsReadBackWholeAndInRanges(sealing: BlobSealing)
        async throws
    {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try Self.store(dir)
        let text = Array(String(repeating: "the same line of text, again and again\n", count: 6000).utf8)
        var random = SystemRandomNumberGenerator()
        let noise = (0..<150_000).map { _ in UInt8.random(in: 0...255, using: &random) }
        for data in [[], Array(text.prefix(1)), Array(text.prefix(65536)), Array(text.prefix(65537)), text, noise] {
            let id = try await Self.writeStreamed(store, data, piece: 7000, sealing: sealing, compression: 1)
            #expect(try await Self.readAll(store, id, sealing: sealing, compressed: true) == data)
            let (whole, _) = try store.writeWholeSync(
                ByteBuffer(bytes: data), hashSHA256: false, checksum: nil, sealing: sealing, compression: 1,
                validate: { _ in })
            #expect(try await Self.readAll(store, whole, sealing: sealing, compressed: true) == data)
            let onDisk = try FileManager.default.attributesOfItem(atPath: store.path(of: id))[.size] as! Int
            if data == text { #expect(onDisk < data.count / 5, "compressible data stored in \(onDisk) bytes") }
            guard let r = try await store.open(id, sealing: sealing, compressed: true) else {
                throw StorageError.noSuchKey
            }
            #expect(r.size == Int64(data.count))
            for (offset, length) in [(0, 1), (65535, 2), (65536, 70000), (100, 10), (Int64(max(0, data.count - 1)), 5)]
            where offset < Int64(data.count) {
                let b = try await r.read(offset: offset, length: length)
                let end = min(data.count, Int(offset) + length)
                #expect(b.getBytes(at: b.readerIndex, length: b.readableBytes) == Array(data[Int(offset)..<end]))
            }
            await r.close()
        }
        // A damaged index is refused, not read as garbage.
        let id = try await Self.writeStreamed(store, text, piece: 65536, sealing: .plain, compression: 1)
        var file = try Data(contentsOf: URL(fileURLWithPath: store.path(of: id)))
        file[file.count - 20] ^= 0xff
        try file.write(to: URL(fileURLWithPath: store.path(of: id)))
        await #expect(throws: StorageError.self) {
            _ = try await Self.readAll(store, id, sealing: .plain, compressed: true)
        }
    }

    @Test func rangesAtChunkBoundariesDecryptOnlyWhatIsAsked() async throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try Self.store(dir)
        let data = Self.bytes(3 * 65536 + 123)
        let id = try await Self.writeStreamed(store, data, piece: 4096, sealing: .server)
        guard let r = try await store.open(id, sealing: .server, compressed: false) else {
            throw StorageError.noSuchKey
        }
        #expect(r.size == Int64(data.count))
        let cases: [(Int64, Int)] = [
            (0, 1), (65535, 2), (65536, 65536), (131071, 2), (Int64(data.count) - 1, 1), (100, 10), (65530, 200_000),
            (196_608, 123),
        ]
        for (offset, length) in cases {
            let b = try await r.read(offset: offset, length: length)
            let end = min(data.count, Int(offset) + length)
            #expect(b.getBytes(at: b.readerIndex, length: b.readableBytes) == Array(data[Int(offset)..<end]))
        }
        await r.close()
    }

    @Test func tamperingTruncationAndSwappingAreDetected() async throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try Self.store(dir)
        let data = Self.bytes(2 * 65536)
        let id = try await Self.writeStreamed(store, data, piece: 65536, sealing: .server)
        let other = try await Self.writeStreamed(store, data, piece: 65536, sealing: .server)
        let path = store.path(of: id)
        let original = try Data(contentsOf: URL(fileURLWithPath: path))

        // A flipped ciphertext bit: the chunk does not authenticate.
        var flipped = original
        flipped[200] ^= 1
        try flipped.write(to: URL(fileURLWithPath: path))
        await #expect(throws: StorageError.self) { _ = try await Self.readAll(store, id, sealing: .server) }

        // The last chunk dropped: the new last chunk is not marked last.
        let truncated = original.prefix(80 + 65536 + 16)
        try truncated.write(to: URL(fileURLWithPath: path))
        await #expect(throws: StorageError.self) { _ = try await Self.readAll(store, id, sealing: .server) }

        // Another blob's file under this id: its header is bound to its own id.
        try Data(contentsOf: URL(fileURLWithPath: store.path(of: other))).write(to: URL(fileURLWithPath: path))
        await #expect(throws: StorageError.self) { _ = try await store.open(id, sealing: .server, compressed: false) }
    }

    @Test func keysRotateAndCustomerKeysAreNeeded() async throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let data = Self.bytes(70000)
        let old = try Self.store(dir)
        let id = try await Self.writeStreamed(old, data, piece: 8192, sealing: .server)
        let customer = [UInt8](repeating: 9, count: 32)
        let cid = try await Self.writeStreamed(old, data, piece: 8192, sealing: .customer(customer))
        await old.shutdown()

        let newKey = [UInt8](repeating: 8, count: 32)
        let stranger = try Self.store(dir, keyring: BlobKeyring(master: newKey))
        await #expect(throws: StorageError.self) {
            _ = try await stranger.open(id, sealing: .server, compressed: false)
        }
        await stranger.shutdown()

        let rotating = try Self.store(dir, keyring: BlobKeyring(master: newKey, previous: [Self.master]))
        #expect(try await Self.readAll(rotating, id, sealing: .server) == data)
        #expect(try await Self.readAll(rotating, cid, sealing: .customer(customer)) == data)
        await #expect(throws: StorageError.self) {
            _ = try await rotating.open(cid, sealing: .customer([UInt8](repeating: 1, count: 32)), compressed: false)
        }
        await #expect(throws: StorageError.self) {
            _ = try await rotating.open(cid, sealing: .server, compressed: false)
        }
        await rotating.shutdown()
    }

    @Test func customerKeyVerifiersAreSaltedAndCheck() {
        let key = [UInt8](repeating: 3, count: 32)
        let a = CustomerKey.verifier(key)
        let b = CustomerKey.verifier(key)
        #expect(a != b)
        #expect(CustomerKey.matches(key, verifier: a))
        #expect(CustomerKey.matches(key, verifier: b))
        #expect(!CustomerKey.matches([UInt8](repeating: 4, count: 32), verifier: a))
        #expect(!CustomerKey.matches(key, verifier: "garbage"))
    }

    @Test func objectServiceRecordsSealingAndChecksCustomerKeys() async throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let metadata = try SQLiteMetadataStore(path: dir + "/meta.sqlite", durable: false)
        let store = try Self.store(dir)
        let service = ObjectService(metadata: metadata, blobs: store, logger: Logger(label: "test"))
        try await metadata.createBucket(BucketRecord(name: "b", owner: "o", region: "us-east-1", createdAt: Date()))
        let key = [UInt8](repeating: 5, count: 32)
        for (name, size) in [("small", 1000), ("large", 2_000_000)] {
            let data = Self.bytes(size)
            var req = PutRequest(
                bucket: "b", key: name, meta: ObjectMeta(), declaredSize: Int64(size))
            req.sealing = .customer(key)
            let record = try await service.put(req, body: Buffers([ByteBuffer(bytes: data)]))
            #expect(record.meta.sse == nil)
            #expect(record.meta.sseCustomerVerifier != nil)
            #expect(record.etag != Digest.md5Hex(data))
            await #expect(throws: StorageError.customerKeyRequired) {
                _ = try await service.read(bucket: "b", key: name, wholeUpTo: 1 << 20)
            }
            await #expect(throws: StorageError.customerKeyMismatch) {
                _ = try await service.head(bucket: "b", key: name, customerKey: [UInt8](repeating: 6, count: 32))
            }
            let o = try await service.open(bucket: "b", key: name, customerKey: key)
            let b = try await o.reader.read(offset: 0, length: size)
            #expect(b.readableBytes == min(size, 1 << 20) || b.readableBytes == size)
            #expect(b.getBytes(at: b.readerIndex, length: b.readableBytes) == Array(data.prefix(b.readableBytes)))
            await o.reader.close()
        }
        var plain = PutRequest(bucket: "b", key: "s3", meta: ObjectMeta(), declaredSize: 3)
        plain.sealing = .server
        let record = try await service.put(plain, body: Buffers([ByteBuffer(bytes: [1, 2, 3])]))
        #expect(record.meta.sse == "AES256")
        #expect(record.etag == Digest.md5Hex([1, 2, 3] as [UInt8]))
        await #expect(throws: StorageError.customerKeyNotApplicable) {
            _ = try await service.head(bucket: "b", key: "s3", customerKey: key)
        }
        await store.shutdown()
    }
}
