-- SPDX-License-Identifier: MIT
-- mod_concierge for Prosody 0.12: transparent delivery through Concierge.
-- Load it on each served VirtualHost. It diverts chats to enrolled users to the Concierge
-- component and delivers what Concierge releases as if from the original sender. The protocol
-- is xmpp/server/PROTOCOL.md; the options are in config/deploy/prosody-transparent.cfg.lua.

local st = require "util.stanza";
local s_find = string.find;
local jid = require "util.jid";
local hashes = require "util.hashes";
local id = require "util.id";
local datetime = require "util.datetime";
local modulemanager = require "core.modulemanager";
local time_now = require "util.time".now;
local monotonic = require "util.time".monotonic; -- pass deadlines: a clock step must not stretch them

local NS = "urn:concierge:divert:0";
local NS_FORWARD = "urn:xmpp:forward:0";
local NS_DELAY = "urn:xmpp:delay";
local NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas";

local component = module:get_option_string("concierge_component");
if not component then error("mod_concierge: concierge_component is not set") end
local key_file = module:get_option_path("concierge_release_key_file", nil, "config"); -- relative: to the config
if not key_file then error("mod_concierge: concierge_release_key_file is not set") end
local key do
	local f, err = io.open(key_file);
	if not f then error("mod_concierge: cannot read concierge_release_key_file: " .. tostring(err)) end
	key = (f:read("*a") or ""):gsub("%s+$", "");
	f:close();
	if #key < 16 then error("mod_concierge: the release key in " .. key_file .. " is shorter than 16 bytes") end
end
local timeout = module:get_option_number("concierge_timeout", 5);
-- A divert must fit the component's stream with its wrapping (mod_component's limit).
local max_size = module:get_option_number("concierge_max_stanza_size",
	module:get_option_number("component_stanza_size_limit", 512 * 1024) - 4096);

-- What makes a message worth holding (PROTOCOL.md "Divert"): xmlns .. " " .. name of a child.
local content_payloads = {
	["urn:xmpp:attention:0 attention"] = true;
	["eu.siacs.conversations.axolotl encrypted"] = true;
	["urn:xmpp:omemo:2 encrypted"] = true;
	["urn:xmpp:openpgp:0 openpgp"] = true;
	["jabber:x:encrypted x"] = true;
	["urn:xmpp:message-correct:0 replace"] = true;
	["urn:xmpp:message-retract:1 retract"] = true;
};

-- What makes a message not plain: a pass never lets it through (PROTOCOL.md "Passes").
local not_plain = {
	["urn:xmpp:attention:0 attention"] = true;
	["http://jabber.org/protocol/shim headers"] = true;
	["urn:xmpp:message-correct:0 replace"] = true;
	["urn:xmpp:message-retract:1 retract"] = true;
	["urn:xmpp:fasten:0 apply-to"] = true;
	["http://jabber.org/protocol/chatstates gone"] = true;
};

-- The enrolled set, persisted so a restart does not let messages bypass Concierge.
local store = module:open_store("concierge");
local enrolled = store:get("enrolled") or { generation = 0, users = {} };
local incoming = nil; -- { generation, chunks, got = {n = true}, users = {} } while a push arrives

-- Passes (PROTOCOL.md "Passes"), in memory only: target bare JID -> { any = deadline or nil,
-- prefix = the urgent prefix of the any pass, from = { [sender bare JID] = deadline } }.
local passes = {};

-- Diverts waiting for a verdict, by divert id. Our own table: module:send_iq tracks only 256.
local pending = {};
-- Their ids in the order they were made (one timeout for all, so also the order their time
-- runs out): a queue with one timer for its oldest entry, not a timer per divert. Decided
-- diverts leave `pending` at once and the queue when the timer passes them.
local queue, queue_first, queue_last = {}, 1, 0;
local timer_armed = false;

-- The mark: what we post ourselves comes from this origin and is never diverted or reported
-- again. It lives only inside the server (never an XML element). One origin for every post
-- (no table or closure per message): Prosody routes synchronously, so the first error it
-- is sent while post_marked runs is that post's bounce.
local bounce = nil;
local marked_origin = {
	type = "concierge"; concierge_release = true; host = module.host;
	log = module._log;
	send = function (reply)
		if reply.attr.type == "error" then bounce = bounce or reply; end
		return true;
	end;
};

-- Posts `stanza` into the server as from its original sender, without pre-events (no second
-- archive copy or sent carbon for the sender). The recipient's blocklist, MAM, carbons,
-- offline storage and push all run now. Returns the bounce, if the server produced one;
-- Prosody routes synchronously, so once module:send returns the message has been taken.
local function post_marked(stanza)
	local outer = bounce; -- (a post inside a post keeps the outer one's bounce)
	bounce = nil;
	module:send(stanza, marked_origin);
	local mine = bounce;
	bounce = outer;
	return mine;
end

-- Delivers as if Concierge were not there; a bounce goes to the sender.
local function deliver(stanza)
	local bounce = post_marked(stanza);
	if bounce then module:send(bounce); end
end

local function token_for(divert_id, from, to, msg_id)
	return hashes.hmac_sha256(key, table.concat({ divert_id, from or "", to or "", msg_id or "" }, "\0"), true);
end

-- An upper bound of #tostring(tag) without serializing it: a string with anything to escape
-- counts 6 bytes a character (the longest escape), an attribute 24 bytes of syntax (enough
-- for a prefixed one). Most messages are far below the limit, and only those near it pay for
-- the serialization.
local function size_bound(tag)
	local n = 2 * #tag.name + 5;
	for k, v in pairs(tag.attr) do
		n = n + 24 + (s_find(k, "[&<>'\"]") and 6 * #k or #k) + (s_find(v, "[&<>'\"]") and 6 * #v or #v);
	end
	for i = 1, #tag do
		local child = tag[i];
		if child.name then
			n = n + size_bound(child);
		else
			n = n + (s_find(child, "[&<>'\"]") and 6 * #child or #child);
		end
	end
	return n;
end

local function fits(stanza)
	return size_bound(stanza) <= max_size or #tostring(stanza) <= max_size;
end

local function has_content(stanza)
	if stanza:get_child("body") then return true; end
	for _, tag in ipairs(stanza.tags) do -- (childtags() would skip other namespaces)
		local xmlns = tag.attr.xmlns or "";
		if content_payloads[xmlns .. " " .. tag.name] then return true; end
		if xmlns == "urn:xmpp:fasten:0" and tag.name == "apply-to"
			and tag:get_child("retract", "urn:xmpp:message-retract:0") then
			return true;
		end
	end
	return false;
end

-- "divert", "report" or nil (not ours to touch), per PROTOCOL.md.
local function classify(origin, stanza)
	if origin.concierge_release then return nil; end
	local t = stanza.attr.type or "normal";
	if t ~= "chat" and t ~= "normal" then return nil; end
	local from, to = stanza.attr.from, stanza.attr.to;
	if not from or not to then return nil; end -- no 'to': a message to the sender's own account
	local from_node, from_host = jid.split(from);
	if not from_node or from_host == component then return nil; end
	local from_bare, to_bare = jid.bare(from), jid.bare(to);
	if from_bare == to_bare then return nil; end
	if stanza:get_child("x", "http://jabber.org/protocol/muc#user") then return nil; end
	local users = enrolled.users;
	if users[to_bare] and has_content(stanza) and fits(stanza) then
		return "divert", from_bare, to_bare;
	end
	if users[to_bare] or users[from_bare] then return "report", from_bare, to_bare; end
	return nil;
end

-- Whether a pass lets `stanza` (which would be diverted) from `from_bare` go to `to_bare`.
local function passes_through(stanza, from_bare, to_bare)
	local p = passes[to_bare];
	if not p then return false; end
	local now = monotonic();
	local sender = p.from[from_bare];
	if sender and sender <= now then p.from[from_bare], sender = nil, nil; end -- ended: forgotten
	if p.any and p.any <= now then p.any = nil; end
	if not p.any and next(p.from) == nil then passes[to_bare] = nil; return false; end
	local any = p.any and p.any > now;
	if not (any or (sender and sender > now)) then return false; end
	local body = stanza:get_child_text("body");
	if not body then return false; end
	for _, tag in ipairs(stanza.tags) do
		if not_plain[(tag.attr.xmlns or "") .. " " .. tag.name] then return false; end
	end
	if sender and sender > now then return true; end
	-- Only the any pass: a body asking to go as urgent is for Concierge to decide.
	local prefix = p.prefix;
	if not prefix or prefix == "" then return true; end
	for b in stanza:childtags("body") do
		if b:get_text():sub(1, #prefix) == prefix then return false; end
	end
	return true;
end

-- Whether Concierge's stream is up: mod_component keeps it in its per-host environment
-- (`connected`). Unknown (no mod_component here) counts as up: mod_component's bounce of our
-- iq then fails open anyway, only with a warning in the log.
local function component_connected()
	local env = modulemanager.get_module(component, "component");
	return env == nil or env.connected ~= false;
end

-- Reports of one turn of the event loop go in one message (PROTOCOL.md "Report"): a stanza to
-- the component per message costs the server more than the message itself. The batch goes
-- when the turn ends (a timer of no delay), when it is full, and before any divert or cancel,
-- so that Concierge reads everything in the order it passed.
local batch, batch_size = nil, 0;
local max_batch = 100;
local function flush_reports()
	if not batch then return; end
	local b = batch;
	batch, batch_size = nil, 0;
	module:send(b);
end

local function report(stanza, passed)
	local state;
	for tag in stanza:childtags(nil, "http://jabber.org/protocol/chatstates") do state = tag.name; break; end
	if not batch then
		batch = st.message({ from = module.host, to = component, type = "normal" });
		module:add_timer(0, flush_reports);
	end
	batch_size = batch_size + 1;
	batch:tag("report", { xmlns = NS, from = stanza.attr.from, to = stanza.attr.to,
			type = stanza.attr.type or "normal", id = stanza.attr.id, ["chat-state"] = state,
			["has-body"] = stanza:get_child("body") and "true" or nil,
			passed = passed and "true" or nil }):up();
	if batch_size >= max_batch then flush_reports(); end
end

-- Fail open: deliver, then tell Concierge to drop whatever it held for this divert.
local function fail_open(divert_id, why)
	local p = pending[divert_id];
	if not p then return; end
	pending[divert_id] = nil;
	module:log("warn", "Concierge did not decide on %s (%s): delivered directly", divert_id, why);
	deliver(p.stanza);
	flush_reports();
	module:send(st.iq({ type = "set", id = "cc-" .. divert_id, from = module.host, to = component })
		:tag("cancel", { xmlns = NS, id = divert_id }));
end

-- The timer of the queue: fails open whatever ran out of time (an error in one is logged and
-- the rest go on), then waits for the next.
local function expire()
	local now = time_now();
	while queue_first <= queue_last do
		local divert_id = queue[queue_first];
		local p = pending[divert_id];
		if p and p.deadline > now then return p.deadline - now; end
		queue[queue_first] = nil;
		queue_first = queue_first + 1;
		if p then
			-- An error in one delivery must not stall the timer: the others still fail open.
			local ok, err = pcall(fail_open, divert_id, "no answer within " .. timeout .. " s");
			if not ok then
				module:log("error", "failing open %s raised an error: %s", divert_id, tostring(err));
			end
		end
	end
	queue, queue_first, queue_last = {}, 1, 0;
	timer_armed = false;
end

-- The <delay/> stamp has whole seconds: made once a second, not once a message.
local stamp_second, stamp_text;
local function stamp()
	local now = os.time();
	if now ~= stamp_second then stamp_second, stamp_text = now, datetime.datetime(now); end
	return stamp_text;
end

local function divert(stanza)
	flush_reports();
	local divert_id = id.medium();
	local token = token_for(divert_id, stanza.attr.from, stanza.attr.to, stanza.attr.id);
	-- The copy inside <forwarded/> differs only in its top element's namespace (the client's,
	-- kept there): its children are the original's, shared, not cloned.
	local inner = st.clone(stanza, true);
	inner.attr.xmlns = "jabber:client";
	inner.tags = stanza.tags;
	for i = 1, #stanza do inner[i] = stanza[i]; end
	pending[divert_id] = { stanza = stanza, token = token, deadline = time_now() + timeout };
	queue_last = queue_last + 1;
	queue[queue_last] = divert_id;
	if not timer_armed then
		timer_armed = true;
		module:add_timer(timeout, expire);
	end
	-- With the component down, mod_component bounces this at once and fail_open runs before
	-- module:send returns.
	module:send(st.iq({ type = "set", id = "cd-" .. divert_id, from = module.host, to = component })
		:tag("divert", { xmlns = NS, id = divert_id, token = token })
			:tag("forwarded", { xmlns = NS_FORWARD })
				:tag("delay", { xmlns = NS_DELAY, stamp = stamp() }):up()
				:add_child(inner));
end

-- Below mod_blocklist (100), above mod_firewall's deliver chain (0.1), mod_mam (0), mod_carbons
-- (-0.5) and mod_message (-1): blocking applies first; archive, carbons, offline storage and
-- push see a held message only when it is released. Never wait here: the hook runs in the
-- sender's session (or a whole s2s link).
local function on_message(event)
	local stanza = event.stanza;
	local what, from_bare, to_bare = classify(event.origin, stanza);
	if what == nil then return; end
	if not component_connected() then -- down: delivered as usual, and the passes end with the stream
		if next(passes) then passes = {}; end
		return;
	end
	-- A message from a target may start a conversation: their any pass ends here.
	local own = passes[from_bare];
	if own then own.any = nil; end
	if what == "divert" then
		if passes_through(stanza, from_bare, to_bare) then
			report(stanza, true);
			return; -- the server's own routing delivers it, as without Concierge
		end
		local p = passes[to_bare];
		if p then p.any = nil; end -- the verdict brings a new one if it still applies
		divert(stanza);
		return true;
	end
	report(stanza);
end
module:hook("message/bare", on_message, 50);
module:hook("message/full", on_message, 50);

local function on_verdict(stanza)
	local divert_id = stanza.attr.id:sub(4);
	local p = pending[divert_id];
	if not p then return; end -- already failed open: a late verdict is ignored
	if stanza.attr.type == "error" then return fail_open(divert_id, "error answer"); end
	local verdict = stanza:get_child("verdict", NS);
	local decision = verdict and verdict.attr.id == divert_id and verdict.tags[1];
	if not decision then return fail_open(divert_id, "unreadable verdict"); end
	if decision.name == "deliver" then
		pending[divert_id] = nil;
		local pass = decision:get_child("pass", NS) or decision:get_child("pass");
		local ttl = pass and tonumber(pass.attr.ttl);
		if ttl and ttl > 0 then
			local to_bare = jid.bare(p.stanza.attr.to);
			local entry = passes[to_bare];
			if not entry then entry = { from = {} }; passes[to_bare] = entry; end
			local deadline = monotonic() + ttl / 1000;
			if pass.attr.scope == "any" then
				entry.any, entry.prefix = deadline, pass.attr["urgent-prefix"];
			elseif pass.attr.scope == "sender" then
				entry.from[jid.bare(p.stanza.attr.from)] = deadline;
			end
		end
		deliver(p.stanza);
	elseif decision.name == "held" and hashes.equals(decision.attr.token or "", p.token) then
		pending[divert_id] = nil;
	elseif decision.name == "refuse" then
		pending[divert_id] = nil;
		module:send(st.error_reply(p.stanza, decision.attr.type or "cancel",
			decision.attr.condition or "undefined-condition", decision:get_text()));
	else
		fail_open(divert_id, "unusable verdict " .. decision.name);
	end
end

-- Answers to our diverts and cancels. Above mod_iq (0), which would drop them unhandled.
module:hook("iq/host", function (event)
	local stanza = event.stanza;
	local t, sid = stanza.attr.type, stanza.attr.id or "";
	if (t ~= "result" and t ~= "error") or stanza.attr.from ~= component then return; end
	if sid:sub(1, 3) == "cd-" then on_verdict(stanza); return true; end
	if sid:sub(1, 3) == "cc-" then return true; end
end, 10);

local function bounced(release_iq, bounce)
	local condition, kind = "service-unavailable", "cancel";
	local err = bounce:get_child("error");
	if err then
		kind = err.attr.type or kind;
		for tag in err:childtags(nil, NS_STANZAS) do
			if tag.name ~= "text" then condition = tag.name; break; end
		end
	end
	local reply = st.error_reply(release_iq, kind, condition);
	reply:get_child("error"):tag("bounced", { xmlns = NS }):up();
	return reply;
end

-- Prosody's parser writes xmlns="jabber:client" on every element under <forwarded/>; a
-- top-level stanza's own children leave it unset (get_child("body") in mod_mam and others
-- looks for exactly that). Clear it where it only repeats the parent's namespace.
local function unclient(tag)
	for _, child in ipairs(tag.tags) do
		if child.attr.xmlns == "jabber:client" then
			child.attr.xmlns = nil;
			unclient(child);
		end
	end
end

module:hook("iq-set/host/" .. NS .. ":release", function (event)
	local origin, stanza = event.origin, event.stanza;
	if stanza.attr.from ~= component then
		origin.send(st.error_reply(stanza, "auth", "forbidden")); return true;
	end
	local release = stanza.tags[1];
	local fwd = release:get_child("forwarded", NS_FORWARD);
	local msg = fwd and fwd:get_child("message", "jabber:client");
	if not (msg and release.attr.id and msg.attr.from and msg.attr.to) then
		origin.send(st.error_reply(stanza, "modify", "bad-request", "no forwarded message")); return true;
	end
	local expected = token_for(release.attr.id, msg.attr.from, msg.attr.to, msg.attr.id);
	if not hashes.equals(release.attr.token or "", expected) then
		module:log("warn", "Refused a release with an invalid token for %s", msg.attr.to);
		origin.send(st.error_reply(stanza, "auth", "forbidden", "invalid release token")); return true;
	end
	msg = st.clone(msg);
	msg.attr.xmlns = nil; -- a top-level stanza again
	unclient(msg);
	local bounce = post_marked(msg);
	origin.send(bounce and bounced(stanza, bounce) or st.reply(stanza));
	return true;
end);

local function save_enrolled(generation, users)
	enrolled = { generation = generation, users = users };
	local ok, err = store:set("enrolled", enrolled);
	if not ok then module:log("error", "Could not store the enrolled set: %s", tostring(err)); end
	module:log("info", "Enrolled set generation %d stored", generation);
end

module:hook("iq-set/host/" .. NS .. ":revoke", function (event)
	local origin, stanza = event.origin, event.stanza;
	if stanza.attr.from ~= component then
		origin.send(st.error_reply(stanza, "auth", "forbidden")); return true;
	end
	for pass in stanza.tags[1]:childtags("pass", NS) do
		local entry = pass.attr.to and passes[jid.bare(pass.attr.to)];
		if entry then
			if pass.attr.from then entry.from[jid.bare(pass.attr.from)] = nil; else entry.any = nil; end
		end
	end
	origin.send(st.reply(stanza));
	return true;
end);

module:hook("iq/host/" .. NS .. ":enrolled", function (event)
	local origin, stanza = event.origin, event.stanza;
	if stanza.attr.from ~= component then
		origin.send(st.error_reply(stanza, "auth", "forbidden")); return true;
	end
	passes = {}; -- a connect, or a change to the set: Concierge grants anew
	if stanza.attr.type == "get" then
		local count = 0;
		for _ in pairs(enrolled.users) do count = count + 1; end
		origin.send(st.reply(stanza):tag("enrolled", { xmlns = NS,
			generation = tostring(enrolled.generation), count = tostring(count) }));
		return true;
	end
	local push = stanza.tags[1];
	local generation, chunk, chunks = tonumber(push.attr.generation), tonumber(push.attr.chunk), tonumber(push.attr.chunks);
	if not (generation and chunk and chunks and chunk >= 1 and chunk <= chunks) then
		origin.send(st.error_reply(stanza, "modify", "bad-request", "generation, chunk and chunks are required")); return true;
	end
	if not incoming or incoming.generation < generation then
		incoming = { generation = generation, chunks = chunks, got = {}, count = 0, users = {} };
	end
	if incoming.generation == generation and not incoming.got[chunk] then
		incoming.got[chunk] = true;
		incoming.count = incoming.count + 1;
		for user in push:childtags("user", NS) do
			if user.attr.jid then incoming.users[jid.bare(user.attr.jid)] = true; end
		end
		if incoming.count == incoming.chunks then
			save_enrolled(generation, incoming.users);
			incoming = nil;
		end
	end -- else a chunk of an older push: dropped
	origin.send(st.reply(stanza));
	return true;
end);

module:log("info", "mod_concierge ready: component %s, %d enrolled (generation %d)", component,
	(function () local n = 0; for _ in pairs(enrolled.users) do n = n + 1; end return n; end)(), enrolled.generation);
