-- SPDX-License-Identifier: MIT
-- Test only (tests/support/s2s_prosody.py): s2s to each domain named in loopback_s2s_routes
-- goes to 127.0.0.1 at that domain's port instead of through DNS, so two private Prosodys on
-- loopback reach each other without /etc/hosts or the machine's resolver. It replaces
-- net.resolvers.service's constructor, which mod_s2s calls for every outgoing connection;
-- every other domain still resolves as usual.
local service = require "net.resolvers.service";
local basic = require "net.resolvers.basic";

local routes = module:get_option("loopback_s2s_routes", {});
service.loopback_s2s_original = service.loopback_s2s_original or service.new;
local original = service.loopback_s2s_original;

service.new = function (hostname, srv, conn_type, extra)
	local port = routes[hostname];
	if port then return basic.new("127.0.0.1", port, conn_type, extra); end
	return original(hostname, srv, conn_type, extra);
end

module:log("info", "loopback s2s routes ready");
