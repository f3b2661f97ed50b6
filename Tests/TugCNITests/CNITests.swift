import Testing
import TugAPIMachinery
import TugOS
@testable import TugCNI

@Suite struct CNITests {
    @Test func splitsIptablesRules() {
        #expect(HostPortChains.tokens(#"-A POSTROUTING -m comment --comment "CNI portfwd requiring masquerade" -j CNI-HOSTPORT-MASQ"#) ==
                ["-A", "POSTROUTING", "-m", "comment", "--comment", "CNI portfwd requiring masquerade", "-j", "CNI-HOSTPORT-MASQ"])
        #expect(HostPortChains.tokens("-N CNI-HOSTPORT-DNAT") == ["-N", "CNI-HOSTPORT-DNAT"])
    }

    @Test func podNetworkNeverMasquerades() throws {
        let list = CNINetwork.podNetwork(podCIDR: "10.42.0.0/24", ipamDirectory: "/x")
        #expect(list["plugins"][0]["type"] == "bridge" && list["plugins"][0]["ipMasq"] == false)
        #expect(list["plugins"][0]["ipam"]["ranges"] == [[["subnet": "10.42.0.0/24"]]])
        let network = try CNINetwork(configList: list, cacheDirectory: "/tmp/tug-cni-test-cache", runner: ProcessCommandRunner())
        let portmap = network.pluginConfig(list["plugins"][1], previous: ["ips": []], portMappings: [.init(hostPort: 8080, containerPort: 80, proto: "TCP")])
        #expect(portmap["runtimeConfig"]["portMappings"] == [["hostPort": 8080, "containerPort": 80, "protocol": "tcp"]])
        #expect(portmap["prevResult"] == ["ips": []] && portmap["name"] == "tugboat" && portmap["cniVersion"] == "1.0.0")
    }
}
