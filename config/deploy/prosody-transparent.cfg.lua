-- Transparent delivery on Prosody (0.12): people write to each other's real addresses and the
-- server hands their chats to Concierge (README "Transparent delivery"). Needs the component
-- of prosody.cfg.lua registered too, and [served] mode = "transparent" (or "both") in
-- concierge.toml. Then `prosodyctl reload` (or restart).
--
-- 1. Where Prosody finds mod_concierge: a global option, before the first VirtualHost.
--    `cmake --install` puts mod_concierge.lua into /usr/share/concierge/prosody (prefix /usr);
--    from the sources it is xmpp/server/prosody.
plugin_paths = { "/usr/share/concierge/prosody" }

-- 2. The release key: 32 random bytes only Prosody reads, e.g.
--      head -c 32 /dev/urandom | base64 > /etc/prosody/concierge-release.key
--      chown root:prosody /etc/prosody/concierge-release.key; chmod 640 /etc/prosody/concierge-release.key
--    Concierge never needs it: the extension signs what it diverts and checks what comes back.
--
-- 3. On each served VirtualHost (add "concierge" to an existing modules_enabled list):
VirtualHost "example.org"
  modules_enabled = { "concierge" }
  concierge_component = "concierge.example.org"              -- the component's domain, as in [component] jid
  concierge_release_key_file = "/etc/prosody/concierge-release.key"  -- relative paths: to the config's folder
  -- concierge_timeout = 5            -- seconds to wait for Concierge's verdict before delivering directly
  -- concierge_max_stanza_size = 520192  -- larger messages are never diverted (default: component_stanza_size_limit - 4096)
