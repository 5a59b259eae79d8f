-- Register Concierge on Prosody (0.12): add to /etc/prosody/prosody.cfg.lua, then
-- `prosodyctl reload`. The domain and secret must match [component] in concierge.toml.
Component "concierge.example.org"
  component_secret = "change-me"   -- the same as component.secret (or the secret_file's content)
  modules_enabled = { "privilege" }
  -- A new stream replaces an old one for the domain: a standby Concierge taking over must not
  -- be refused (<conflict/>) while the stream of an active that hung or was cut off lingers.
  component_conflict_resolve = "kick_old"

-- Optional (package prosody-modules): XEP-0356 lets Concierge see enrolled users' presence
-- without asking each for a subscription. It needs presence only — grant nothing more.
-- Prosody reads the grant where mod_privilege runs for the users: on the VirtualHost of each
-- served domain. Put these two lines into that VirtualHost's section (if it already has a
-- modules_enabled list, add "privilege" to it). Without "privilege" on the VirtualHost the grant
-- silently does nothing: Concierge then logs "the server grants no presence access" shortly
-- after connecting, and a working grant logs "the server grants presence access".
VirtualHost "example.org"
  modules_enabled = { "privilege" }
  privileged_entities = {
    ["concierge.example.org"] = { presence = "managed_entity" };
  }
