import Testing

@testable import Sentry

@Suite struct IDMapTests {
    @Test func idsCrossTheMapBothWays() {
        let map = IDMap("0 100000 2000\n5000 1000 1\n")
        #expect(map.inside(100_000) == 0 && map.inside(101_999) == 1999 && map.inside(1000) == 5000)
        #expect(map.inside(102_000) == IDMap.overflow && map.inside(0) == IDMap.overflow)
        #expect(map.host(0) == 100_000 && map.host(1999) == 101_999 && map.host(5000) == 1000)
        #expect(map.host(2000) == nil && map.host(4999) == nil)
    }

    @Test func theEdgesOfTheIdSpaceDoNotOverflow() {
        let map = IDMap("4294967294 4294967294 1\n0 0 4294967295\n")
        #expect(map.inside(4_294_967_294) == 4_294_967_294 && map.host(4_294_967_294) == 4_294_967_294)
        #expect(map.inside(4_294_967_295) == IDMap.overflow && map.host(4_294_967_295) == nil)
        #expect(IDMap("garbage\n1 2\n\n").ranges.isEmpty)
    }
}
