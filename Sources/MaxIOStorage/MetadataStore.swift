/// The catalog: buckets and object metadata. Every method is one transaction.
/// Implementations: SQLite (embedded default); PostgreSQL (cluster) later. Methods throw `StorageError`
/// for expected outcomes; anything else is an internal error.
package protocol MetadataStore: Sendable {
    /// Throws `bucketAlreadyOwnedByYou` / `bucketAlreadyExists` if the name is taken.
    func createBucket(_ bucket: BucketRecord) async throws
    func bucket(_ name: String) async throws -> BucketRecord?
    /// Buckets in name order, optionally of one owner, with a prefix, after a name.
    func listBuckets(owner: String?, prefix: String?, after: String?, limit: Int) async throws -> [BucketRecord]
    /// Throws `noSuchBucket` or `bucketNotEmpty`.
    func deleteBucket(_ name: String) async throws

    /// Throws `noSuchBucket` when the bucket does not exist; nil when the key does not.
    func object(bucket: String, key: String) async throws -> ObjectRecord?
    /// Makes `object` visible, checking `condition` and the bucket's existence in the same transaction.
    /// Returns the record it replaced, whose blob the caller retires.
    func putObject(_ object: ObjectRecord, condition: WriteCondition?) async throws -> ObjectRecord?
    /// Returns the removed record, nil if there was none. Throws `noSuchBucket`; with `ifMatch`,
    /// `noSuchKey` when there is no object and `preconditionFailed` when its ETag differs.
    func deleteObject(bucket: String, key: String, ifMatch: String?) async throws -> ObjectRecord?
    /// Removes several keys in one transaction; returns the removed records. Throws `noSuchBucket`.
    func deleteObjects(bucket: String, keys: [String]) async throws -> [ObjectRecord]
    /// Throws `noSuchBucket`.
    func listObjects(bucket: String, query: ListQuery) async throws -> ListPage
    /// Every blob id the catalog references (for garbage collection of orphans).
    func referencedBlobIDs() async throws -> Set<String>
}

/// A catalog that can answer on the calling thread (an embedded database). `ObjectService` uses it to do
/// one request's metadata and file work in a single thread-pool job instead of a hop for each step
/// (see docs/adr/0003). Same semantics as the async methods of `MetadataStore`.
package protocol SynchronousMetadataStore: MetadataStore {
    func objectSync(bucket: String, key: String) throws -> ObjectRecord?
    func putObjectSync(_ object: ObjectRecord, condition: WriteCondition?) throws -> ObjectRecord?
    func deleteObjectSync(bucket: String, key: String, ifMatch: String?) throws -> ObjectRecord?
}
