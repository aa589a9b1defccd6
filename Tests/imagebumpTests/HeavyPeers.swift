import Testing

/// The suites that drive heavy real peers (a browser, schemathesis, real registries with image
/// pushes, kubectl and kubernetes-validate, apt-cache): one at a time, so that together they do
/// not load a two-core machine past the deadlines of the other suites running meanwhile.
@Suite(.serialized) enum HeavyPeers {}
