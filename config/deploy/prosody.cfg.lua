-- Register Concierge on Prosody (0.12): add to /etc/prosody/prosody.cfg.lua, then
-- `prosodyctl reload`. The domain and secret must match [component] in concierge.toml.
Component "concierge.example.org"
  component_secret = "change-me"   -- the same as component.secret (or the secret_file's content)

-- Optional (package prosody-modules): XEP-0356 lets Concierge see enrolled users' presence
-- without asking each for a subscription. It needs presence only — grant nothing more.
-- In the VirtualHost of each served domain:
--   VirtualHost "example.org"
--     privileged_entities = {
--       ["concierge.example.org"] = { presence = "managed_entity" };
--     }
-- and in the Component section above:
--     modules_enabled = { "privilege" }
