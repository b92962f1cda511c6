import Foundation
import MaxIOCore
import NIOCore
import Testing

@testable import MaxIOSQLite
@testable import MaxIOStorage

/// Versioning through `ObjectService` on the real SQLite catalog.
@Suite struct VersioningTests {
    func versionedFixture() async throws -> Fixture {
        let f = try Fixture()
        try await f.bucket()
        try await f.metadata.setVersioning(bucket: "bucket", state: .enabled)
        return f
    }

    func all(_ f: Fixture, pageSize: Int, delimiter: String? = nil) async throws -> [String] {
        var out: [String] = []
        var keyMarker: String?
        var versionMarker: String?
        for _ in 0..<1000 {
            let page = try await f.metadata.listVersions(
                bucket: "bucket",
                query: VersionsQuery(
                    prefix: "", delimiter: delimiter, keyMarker: keyMarker, versionIDMarker: versionMarker,
                    maxKeys: pageSize))
            out += page.versions.map { "\($0.key)@\($0.versionID)\($0.isLatest ? "*" : "")" }
            out += page.commonPrefixes.map { "prefix:\($0)" }
            guard page.isTruncated else { return out }
            keyMarker = page.nextKeyMarker
            versionMarker = page.nextVersionIDMarker
        }
        Issue.record("listing did not end")
        return out
    }

    @Test func everyPageSizeListsEveryVersionOnceNewestFirst() async throws {
        let f = try await versionedFixture()
        var expected: [String] = []
        for key in ["a", "b", "c"] {
            var ids: [String] = []
            for i in 0..<4 { ids.append(try await f.put(key, "\(key)\(i)").versionID) }
            expected += ids.reversed().enumerated().map { "\(key)@\($0.element)\($0.offset == 0 ? "*" : "")" }
        }
        for size in 1...13 {
            #expect(try await all(f, pageSize: size) == expected, "page size \(size)")
        }
    }

    @Test func deleteMarkersHideAndRemovingThemRestores() async throws {
        let f = try await versionedFixture()
        let v1 = try await f.put("k", "one")
        let marker = try await f.service.delete(bucket: "bucket", key: "k")
        #expect(marker.deleteMarker && marker.versionID != nil)
        do {
            _ = try await f.service.head(bucket: "bucket", key: "k")
            Issue.record("HEAD of a deleted key succeeded")
        } catch StorageError.deleteMarker(let v, let requested, _) {
            #expect(v == marker.versionID && !requested)
        }
        let listed = try await f.metadata.listObjects(
            bucket: "bucket", query: ListQuery(prefix: "", delimiter: nil, after: nil, maxKeys: 10))
        #expect(listed.objects.isEmpty)
        do {
            _ = try await f.service.open(bucket: "bucket", key: "k", versionID: marker.versionID)
            Issue.record("opening a delete marker succeeded")
        } catch StorageError.deleteMarker(let v, let requested, _) {
            #expect(v == marker.versionID && requested)
        }
        #expect(try await f.service.open(bucket: "bucket", key: "k", versionID: v1.versionID).record.etag == v1.etag)
        let removed = try await f.service.delete(bucket: "bucket", key: "k", versionID: marker.versionID)
        #expect(removed.deleteMarker)
        #expect(try await f.service.head(bucket: "bucket", key: "k").versionID == v1.versionID)
        // Removing the latest real version promotes nothing (none left) and frees its blob.
        try await f.service.delete(bucket: "bucket", key: "k", versionID: v1.versionID)
        #expect(f.blobFiles().isEmpty)
        await #expect(throws: StorageError.noSuchBucket) { try await f.service.deleteBucket("nobucket") }
        try await f.service.deleteBucket("bucket")
    }

    @Test func suspendedWritesReplaceOnlyTheNullVersion() async throws {
        let f = try Fixture()
        try await f.bucket()
        _ = try await f.put("k", "before")  // the null version of a never-versioned bucket
        try await f.metadata.setVersioning(bucket: "bucket", state: .enabled)
        let kept = try await f.put("k", "kept")
        try await f.metadata.setVersioning(bucket: "bucket", state: .suspended)
        let n1 = try await f.put("k", "null one")
        #expect(n1.versionID == VersionID.null)
        _ = try await f.put("k", "null two")
        let versions = try await all(f, pageSize: 100)
        #expect(versions == ["k@null*", "k@\(kept.versionID)"])
        #expect(f.blobFiles().count == 2)
        let old = try await f.metadata.objectVersion(bucket: "bucket", key: "k", versionID: kept.versionID)
        #expect(old?.isDeleteMarker == false)
        await #expect(throws: StorageError.bucketNotEmpty) { try await f.service.deleteBucket("bucket") }
    }
}
