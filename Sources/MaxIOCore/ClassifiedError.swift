/// Errors of other layers that must keep their identity when they surface from a request body
/// (e.g. a chunk signature mismatch), rather than being read as a client that went away.
package protocol ClassifiedError: Error {}
