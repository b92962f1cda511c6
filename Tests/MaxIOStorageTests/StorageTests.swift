import Foundation
import GRDB
import Logging
import MaxIOCore
import NIOCore
import Testing

@testable import MaxIOSQLite
@testable import MaxIOStorage

/// A fresh data directory with the real SQLite catalog and file blob store.
final class Fixture: Sendable {
    let dir: String
    let metadata: SQLiteMetadataStore
    let blobs: FileBlobStore
    let service: ObjectService

    init() throws {
        dir = NSTemporaryDirectory() + "maxiofs-test-" + randomHexID(bytes: 6)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        metadata = try SQLiteMetadataStore(path: dir + "/meta.sqlite", durable: false)
        blobs = try FileBlobStore(root: dir, durable: false, threads: 2)
        service = ObjectService(metadata: metadata, blobs: blobs, logger: Logger(label: "test"))
    }

    deinit { try? FileManager.default.removeItem(atPath: dir) }

    func bucket(_ name: String = "bucket") async throws {
        try await metadata.createBucket(BucketRecord(name: name, owner: "o", region: "us-east-1", createdAt: Date()))
    }

    @discardableResult
    func put(
        _ key: String, _ data: String, bucket: String = "bucket", md5: [UInt8]? = nil, condition: WriteCondition? = nil
    )
        async throws -> ObjectRecord
    {
        let bytes = Array(data.utf8)
        let req = PutRequest(
            bucket: bucket, key: key, meta: ObjectMeta(), declaredSize: Int64(bytes.count), contentMD5: md5,
            condition: condition)
        return try await service.put(req, body: Buffers([ByteBuffer(bytes: bytes)]))
    }

    func read(_ key: String, bucket: String = "bucket") async throws -> String {
        let o = try await service.open(bucket: bucket, key: key)
        defer { Task { await o.reader.close() } }
        let b = try await o.reader.read(offset: 0, length: Int(o.reader.size))
        return String(buffer: b)
    }

    func tmpFiles() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: dir + "/tmp") }

    func blobFiles() -> [String] {
        (FileManager.default.enumerator(atPath: dir + "/blobs")?.allObjects as? [String] ?? [])
            .filter { $0.split(separator: "/").count == 3 }
    }
}

struct Buffers: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let items: [ByteBuffer]
    var failAfter: Int? = nil
    init(_ items: [ByteBuffer], failAfter: Int? = nil) {
        self.items = items
        self.failAfter = failAfter
    }
    func makeAsyncIterator() -> Iterator { Iterator(items: items, failAfter: failAfter) }
    struct Iterator: AsyncIteratorProtocol {
        let items: [ByteBuffer]
        let failAfter: Int?
        var i = 0
        mutating func next() async throws -> ByteBuffer? {
            if let f = failAfter, i == f { throw StorageError.incompleteBody }
            guard i < items.count else { return nil }
            defer { i += 1 }
            return items[i]
        }
    }
}

@Suite struct CommitProtocolTests {
    @Test func putGetOverwriteRetiresOldBlob() async throws {
        let f = try Fixture()
        try await f.bucket()
        let first = try await f.put("k", "one")
        #expect(first.etag == Digest.md5Hex(Array("one".utf8)))
        #expect(try await f.read("k") == "one")
        try await f.put("k", "two")
        #expect(try await f.read("k") == "two")
        #expect(f.blobFiles().count == 1)
        #expect(try f.tmpFiles().isEmpty)
    }

    @Test func badDigestLeavesNothing() async throws {
        let f = try Fixture()
        try await f.bucket()
        try await f.put("k", "old")
        await #expect(throws: StorageError.badDigest) {
            try await f.put("k", "new", md5: Array(repeating: 0, count: 16))
        }
        #expect(try await f.read("k") == "old")
        #expect(try f.tmpFiles().isEmpty)
        #expect(f.blobFiles().count == 1)
    }

    @Test func failedBodyLeavesNothing() async throws {
        let f = try Fixture()
        try await f.bucket()
        let req = PutRequest(bucket: "bucket", key: "k", meta: ObjectMeta(), declaredSize: 10)
        await #expect(throws: StorageError.incompleteBody) {
            _ = try await f.service.put(
                req, body: Buffers([ByteBuffer(string: "12345"), ByteBuffer(string: "6")], failAfter: 1))
        }
        await #expect(throws: StorageError.incompleteBody) {
            _ = try await f.service.put(req, body: Buffers([ByteBuffer(string: "12345")]))
        }
        #expect(try await f.metadata.object(bucket: "bucket", key: "k") == nil)
        #expect(try f.tmpFiles().isEmpty)
        #expect(f.blobFiles().isEmpty)
    }

    @Test func largeBodyStreamsInPieces() async throws {
        let f = try Fixture()
        try await f.bucket()
        let piece = ByteBuffer(repeating: UInt8(ascii: "x"), count: 300_000)
        let req = PutRequest(bucket: "bucket", key: "big", meta: ObjectMeta(), declaredSize: 3_000_000)
        let r = try await f.service.put(req, body: Buffers(Array(repeating: piece, count: 10)))
        #expect(r.size == 3_000_000)
        #expect(r.etag == Digest.md5Hex([UInt8](repeating: UInt8(ascii: "x"), count: 3_000_000)))
    }

    @Test func conditionalWrites() async throws {
        let f = try Fixture()
        try await f.bucket()
        await #expect(throws: StorageError.noSuchKey) { try await f.put("k", "a", condition: .ifMatch("x")) }
        let a = try await f.put("k", "a", condition: .ifNoneMatchAny)
        await #expect(throws: StorageError.preconditionFailed) { try await f.put("k", "b", condition: .ifNoneMatchAny) }
        await #expect(throws: StorageError.preconditionFailed) {
            try await f.put("k", "b", condition: .ifMatch("nope"))
        }
        try await f.put("k", "c", condition: .ifMatch(a.etag))
        #expect(try await f.read("k") == "c")
        #expect(f.blobFiles().count == 1)
        #expect(try f.tmpFiles().isEmpty)
    }

    @Test func openReaderSurvivesDelete() async throws {
        let f = try Fixture()
        try await f.bucket()
        try await f.put("k", "payload")
        let o = try await f.service.open(bucket: "bucket", key: "k")
        try await f.service.delete(bucket: "bucket", key: "k")
        let b = try await o.reader.read(offset: 0, length: 7)
        #expect(String(buffer: b) == "payload")
        await o.reader.close()
        await #expect(throws: StorageError.noSuchKey) { _ = try await f.service.open(bucket: "bucket", key: "k") }
    }

    @Test func missingBucket() async throws {
        let f = try Fixture()
        await #expect(throws: StorageError.noSuchBucket) { try await f.put("k", "a") }
        await #expect(throws: StorageError.noSuchBucket) { _ = try await f.metadata.object(bucket: "bucket", key: "k") }
        #expect(try f.tmpFiles().isEmpty)
    }

    @Test func orphansAndTemporariesAreCollected() async throws {
        let f = try Fixture()
        try await f.bucket()
        try await f.put("k", "kept")
        _ = FileManager.default.createFile(atPath: f.dir + "/tmp/leftover", contents: Data("x".utf8))
        try FileManager.default.createDirectory(atPath: f.dir + "/blobs/ab/cd", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: f.dir + "/blobs/ab/cd/abcd00", contents: Data("x".utf8))
        #expect(try f.blobs.cleanTemporary() == 1)
        // A blob older than the catalog was not written through it and is never collected.
        let catalogBirth = try await f.metadata.createdAt()
        var times = [timespec(tv_sec: Int(catalogBirth.timeIntervalSince1970) - 100, tv_nsec: 0)]
        times.append(times[0])
        _ = FileManager.default.createFile(atPath: f.dir + "/blobs/ab/cd/abcd01", contents: Data("x".utf8))
        _ = utimensat(AT_FDCWD, f.dir + "/blobs/ab/cd/abcd01", &times, 0)
        let removed = try f.blobs.collectOrphans(
            referenced: try await f.metadata.referencedBlobIDs(), olderThan: Date().addingTimeInterval(5),
            notBefore: catalogBirth)
        #expect(removed == 1)
        #expect(FileManager.default.fileExists(atPath: f.dir + "/blobs/ab/cd/abcd01"))
        #expect(!FileManager.default.fileExists(atPath: f.dir + "/blobs/ab/cd/abcd00"))
        #expect(try await f.read("k") == "kept")
    }
}

@Suite struct CatalogTests {
    @Test func bucketsLifecycle() async throws {
        let f = try Fixture()
        try await f.bucket("alpha")
        await #expect(throws: StorageError.bucketAlreadyOwnedByYou) { try await f.bucket("alpha") }
        await #expect(throws: StorageError.bucketAlreadyExists) {
            try await f.metadata.createBucket(
                BucketRecord(name: "alpha", owner: "other", region: "us-east-1", createdAt: Date()))
        }
        try await f.bucket("beta")
        try await f.bucket("gamma")
        #expect(
            try await f.metadata.listBuckets(owner: "o", prefix: nil, after: nil, limit: 10).map(\.name) == [
                "alpha", "beta", "gamma",
            ])
        #expect(
            try await f.metadata.listBuckets(owner: "o", prefix: nil, after: "alpha", limit: 1).map(\.name) == ["beta"])
        #expect(
            try await f.metadata.listBuckets(owner: "o", prefix: "g", after: nil, limit: 10).map(\.name) == ["gamma"])
        try await f.put("k", "x", bucket: "beta")
        await #expect(throws: StorageError.bucketNotEmpty) { try await f.metadata.deleteBucket("beta") }
        try await f.service.delete(bucket: "beta", key: "k")
        try await f.metadata.deleteBucket("beta")
        await #expect(throws: StorageError.noSuchBucket) { try await f.metadata.deleteBucket("beta") }
    }

    func page(_ f: Fixture, prefix: String = "", delimiter: String? = nil, after: String? = nil, max: Int = 1000)
        async throws -> ListPage
    {
        try await f.metadata.listObjects(
            bucket: "bucket", query: ListQuery(prefix: prefix, delimiter: delimiter, after: after, maxKeys: max))
    }

    @Test func listingOrderPrefixDelimiter() async throws {
        let f = try Fixture()
        try await f.bucket()
        let keys = ["a/1", "a/2", "a/b/3", "b", "c/x", "c/y", "é", "\u{FF}", "😀", "Z", "a"]
        for k in keys { try await f.put(k, "v") }
        let all = try await page(f)
        #expect(all.objects.map(\.key) == keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
        let top = try await page(f, delimiter: "/")
        #expect(top.commonPrefixes == ["a/", "c/"])
        #expect(top.objects.map(\.key) == ["Z", "a", "b", "é", "\u{FF}", "😀"])
        let inA = try await page(f, prefix: "a/", delimiter: "/")
        #expect(inA.objects.map(\.key) == ["a/1", "a/2"])
        #expect(inA.commonPrefixes == ["a/b/"])
        let none = try await page(f, prefix: "zzz")
        #expect(none.objects.isEmpty && !none.isTruncated)
    }

    @Test func paginationWithCommonPrefixesAcrossPages() async throws {
        let f = try Fixture()
        try await f.bucket()
        var expected: [String] = []
        for p in 0..<12 {
            for k in 0..<4 { try await f.put(String(format: "p%02d/k%d", p, k), "v") }
            expected.append(String(format: "p%02d/", p))
            try await f.put(String(format: "p%02d-file", p), "v")
            expected.append(String(format: "p%02d-file", p))
        }
        expected.sort { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        var seen: [String] = []
        var after: String?
        var pages = 0
        while true {
            let pg = try await page(f, delimiter: "/", after: after, max: 5)
            let items = (pg.objects.map(\.key) + pg.commonPrefixes).sorted {
                Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8))
            }
            seen += items
            pages += 1
            #expect(items.count <= 5)
            guard pg.isTruncated else { break }
            after = pg.lastItem
        }
        #expect(seen == expected)
        #expect(pages == 5)
    }

    @Test func maxKeysZeroAndExactFit() async throws {
        let f = try Fixture()
        try await f.bucket()
        for k in ["a", "b", "c"] { try await f.put(k, "v") }
        let zero = try await page(f, max: 0)
        #expect(zero.objects.isEmpty && !zero.isTruncated)
        let exact = try await page(f, max: 3)
        #expect(exact.objects.count == 3 && !exact.isTruncated)
        let short = try await page(f, max: 2)
        #expect(short.objects.map(\.key) == ["a", "b"] && short.isTruncated && short.lastItem == "b")
        let rest = try await page(f, after: "b", max: 2)
        #expect(rest.objects.map(\.key) == ["c"] && !rest.isTruncated)
    }
}

@Suite struct MetaEncodingTests {
    @Test func roundTrips() {
        let full = ObjectMeta(
            contentType: "text/plain; charset=utf-8", cacheControl: "max-age=60", contentDisposition: "attachment",
            contentEncoding: "gzip", contentLanguage: "fr", expires: "Wed, 21 Oct 2015 07:28:00 GMT",
            user: ["a": "1", "é😀": String(repeating: "v", count: 300), "empty": ""], storageClass: "STANDARD_IA",
            checksums: ["CRC32": "NhCmhg=="])
        for meta in [full, ObjectMeta(), ObjectMeta(user: ["k": "v"])] {
            #expect(ObjectMeta(encoded: meta.encoded()) == meta)
        }
    }

    @Test func rejectsForeignBytes() {
        #expect(ObjectMeta(encoded: Array("{\"user\":{}}".utf8)) == nil)
        #expect(ObjectMeta(encoded: [1, 1, 200]) == nil)  // length past the end
        #expect(ObjectMeta(encoded: [1, 99, 0]) == nil)  // unknown tag
        #expect(ObjectMeta(encoded: [1, 8, 1, 65]) == nil)  // a user key without its value
        #expect(ObjectMeta(encoded: [1, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]) == nil)
    }
}

@Suite struct LegacyMetaRowTests {
    /// Rows written by the first development builds hold JSON text; they stay readable.
    @Test func jsonRowsStillRead() async throws {
        let f = try Fixture()
        try await f.bucket()
        try await f.metadata.pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO objects(bucket, key, size, etag, last_modified, storage_class, blob_id, meta)
                    VALUES ('bucket', ?, 1, 'e', 0, 'STANDARD', 'b', '{"user":{"a":"1"},"contentType":"text/x"}')
                    """, arguments: [Data("old".utf8)])
        }
        let record = try await f.metadata.object(bucket: "bucket", key: "old")
        #expect(record?.meta == ObjectMeta(contentType: "text/x", user: ["a": "1"]))
        #expect(try f.metadata.objectSync(bucket: "bucket", key: "old") == record)
    }

    /// The raw point reader agrees with the GRDB path, tells a missing key from a missing bucket, and
    /// sees each committed write.
    @Test func pointReads() async throws {
        let f = try Fixture()
        try await f.bucket()
        #expect(try f.metadata.objectSync(bucket: "bucket", key: "k") == nil)
        #expect(throws: StorageError.noSuchBucket) { _ = try f.metadata.objectSync(bucket: "nobucket", key: "k") }
        // Dates go through a Double of seconds since 1970, so compare them to the millisecond (the wire
        // formats carry milliseconds at most).
        func same(_ a: ObjectRecord?, _ b: ObjectRecord) -> Bool {
            guard let a else { return false }
            return a.etag == b.etag && a.blobID == b.blobID && a.size == b.size && a.meta == b.meta
                && abs(a.lastModified.timeIntervalSince(b.lastModified)) < 0.001
        }
        let first = try await f.put("k", "one")
        #expect(same(try f.metadata.objectSync(bucket: "bucket", key: "k"), first))
        let second = try await f.put("k", "two")
        let read = try f.metadata.objectSync(bucket: "bucket", key: "k")
        #expect(same(read, second))
        #expect(try await f.metadata.object(bucket: "bucket", key: "k") == read)
    }
}
