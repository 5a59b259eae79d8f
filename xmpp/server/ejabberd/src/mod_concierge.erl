%% SPDX-License-Identifier: MIT
%% mod_concierge for ejabberd 23.01: transparent delivery through Concierge.
%% Diverts chats to enrolled users to the Concierge component and delivers what Concierge
%% releases as if from the original sender; while a pass from a `deliver` verdict holds, plain
%% messages to that target go without asking and are only reported. Protocol:
%% xmpp/server/PROTOCOL.md; options and installation: config/deploy/ejabberd-transparent.yml.
-module(mod_concierge).
-behaviour(gen_mod).
-behaviour(gen_server).

-export([start/2, stop/1, reload/3, depends/2, mod_opt_type/1, mod_options/1, mod_doc/0]).
-export([sm_receive_packet/1, offline_message/1, process_iq/1, decode_iq_subel/1, component_disconnected/2]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2, terminate/2, code_change/3]).

-include("logger.hrl").
-include("xmpp.hrl").

-define(NS, <<"urn:concierge:divert:0">>).
%% The mark on what this module posts itself: internal to the server, never an XML element.
-define(MARK, concierge).

%% The enrolled set, per VirtualHost, cluster-wide (mnesia disc_copies).
-record(concierge_enrolled, {key :: {binary(), binary(), binary()}, jid :: binary()}).
-record(concierge_generation, {host :: binary(), generation = 0 :: integer(), count = 0 :: integer()}).
%% Chunks of a push still arriving (ram only).
-record(concierge_chunk, {key :: {binary(), integer(), integer()}, chunks :: integer(), jids :: [binary()]}).
%% Passes (PROTOCOL.md "Passes") live in one ets table per VirtualHost, in memory only: a
%% restart or a reconnect of Concierge ends them anyway. Rows are
%% {{Target, Sender | any}, Deadline, UrgentPrefix}: bare JIDs as jid:tolower/1 tuples, the
%% deadline in erlang:monotonic_time(millisecond), the prefix a binary or none.
%% Stale rows are swept by the table's owner, a gen_server under ejabberd_gen_mod_sup: the
%% process that calls start/2 (a reload_config, an ejabberdctl rpc) may not outlive it.
-define(SWEEP_MS, 60000).

%%% gen_mod

start(Host, _Opts) ->
    ejabberd_mnesia:create(?MODULE, concierge_enrolled,
                           [{disc_copies, [node()]}, {attributes, record_info(fields, concierge_enrolled)}]),
    ejabberd_mnesia:create(?MODULE, concierge_generation,
                           [{disc_copies, [node()]}, {attributes, record_info(fields, concierge_generation)}]),
    ejabberd_mnesia:create(?MODULE, concierge_chunk,
                           [{ram_copies, [node()]}, {attributes, record_info(fields, concierge_chunk)}]),
    _ = key(Host), % an unreadable key file stops the module from starting
    %% Before mod_mam (50): the archive, carbons, offline storage and push see a held message
    %% only when it is released.
    ejabberd_hooks:add(sm_receive_packet, Host, ?MODULE, sm_receive_packet, 25),
    %% After mod_offline (50), before ejabberd_sm bounces (100): a release that would bounce.
    ejabberd_hooks:add(offline_message_hook, Host, ?MODULE, offline_message, 90),
    gen_iq_handler:add_iq_handler(ejabberd_local, Host, ?NS, ?MODULE, process_iq),
    {ok, _} = gen_mod:start_child(?MODULE, Host, []),
    %% Global (ejabberd_service runs it with the component's domain): passes end with the stream.
    ejabberd_hooks:add(component_disconnected, ?MODULE, component_disconnected, 50),
    #concierge_generation{generation = G, count = N} = generation(Host),
    ?INFO_MSG("mod_concierge started on ~ts: component ~ts, ~B enrolled (generation ~B)",
              [Host, component(Host), N, G]),
    ok.

stop(Host) ->
    ejabberd_hooks:delete(sm_receive_packet, Host, ?MODULE, sm_receive_packet, 25),
    ejabberd_hooks:delete(offline_message_hook, Host, ?MODULE, offline_message, 90),
    gen_iq_handler:remove_iq_handler(ejabberd_local, Host, ?NS),
    case gen_mod:is_loaded_elsewhere(Host, ?MODULE) of
        true -> ok;
        false -> ejabberd_hooks:delete(component_disconnected, ?MODULE, component_disconnected, 50)
    end,
    gen_mod:stop_child(?MODULE, Host).

reload(_Host, _NewOpts, _OldOpts) -> ok.

depends(_Host, _Opts) -> [].

mod_opt_type(component) -> econf:domain();
mod_opt_type(release_key_file) -> econf:file(read);
mod_opt_type(timeout) -> econf:timeout(second);
mod_opt_type(max_stanza_size) -> econf:pos_int().

%% component and release_key_file are required (bare atoms).
mod_options(_Host) ->
    [component, release_key_file, {timeout, timer:seconds(5)}, {max_stanza_size, 262144 - 4096}].

mod_doc() -> #{desc => ["Transparent delivery through Concierge (xmpp/server/PROTOCOL.md)."]}.

component(Host) -> gen_mod:get_module_opt(Host, ?MODULE, component).

key(Host) ->
    {ok, Bin} = file:read_file(gen_mod:get_module_opt(Host, ?MODULE, release_key_file)),
    Key = string:trim(Bin, trailing),
    true = byte_size(Key) >= 16 orelse error(release_key_shorter_than_16_bytes),
    Key.

%%% what is diverted, reported, or left alone

%% Runs in the process that routes the message (the sender's c2s, an s2s link): never block.
sm_receive_packet(#message{} = Pkt) ->
    case xmpp:get_meta(Pkt, ?MARK, false) of
        false -> classify(Pkt);
        _ -> Pkt
    end;
sm_receive_packet(Pkt) -> Pkt.

classify(#message{type = T, from = From, to = To} = Pkt) when T == chat; T == normal ->
    Host = To#jid.lserver,
    Component = component(Host),
    Never = From#jid.luser == <<>> orelse From#jid.lserver == Component
        orelse jid:remove_resource(jid:tolower(From)) == jid:remove_resource(jid:tolower(To))
        orelse has_el(Pkt, <<"x">>, ?NS_MUC_USER),
    ToEnrolled = not Never andalso enrolled(Host, To),
    if
        Never -> Pkt;
        %% Privacy lists and blocking have not run yet here: what they refuse is not ours.
        ToEnrolled ->
            case ejabberd_hooks:run_fold(privacy_check_packet, Host, allow, [To, Pkt, in]) of
                allow -> divert_or_report(Host, Component, Pkt);
                _ -> Pkt
            end;
        true ->
            case enrolled(Host, From) of
                true -> drop_any_pass(Host, From), report(Host, Component, Pkt), Pkt;
                false -> Pkt
            end
    end;
classify(Pkt) -> Pkt.

divert_or_report(Host, Component, #message{from = From, to = To} = Pkt) ->
    %% A message from a target may start a conversation: their any pass ends here (a no-op
    %% for senders who are not enrolled, who have none).
    drop_any_pass(Host, From),
    Inner = has_content(Pkt) andalso inner(Pkt),
    Small = Inner /= false andalso
        byte_size(fxml:element_to_binary(Inner)) =< gen_mod:get_module_opt(Host, ?MODULE, max_stanza_size),
    %% With the component down an iq would go to s2s instead of failing: deliver directly.
    case Small andalso ejabberd_router:is_my_route(Component) of
        true ->
            case passed(Host, Pkt) of
                %% Not re-posted: the server's own routing goes on with it, as without Concierge.
                true -> report(Host, Component, Pkt, true), Pkt;
                false ->
                    %% The verdict brings a new any pass if it still applies.
                    drop_any_pass(Host, To),
                    divert(Host, Component, Pkt, Inner),
                    {stop, drop}
            end;
        false when Small -> drop_passes(Host), Pkt; % the stream is down: no pass survives it
        false when Inner /= false -> Pkt;
        false -> report(Host, Component, Pkt), Pkt
    end.

has_content(#message{body = Body} = Pkt) ->
    Body /= [] orelse lists:any(fun content_el/1, els(Pkt)).

content_el(#xmlel{name = Name} = El) ->
    case {fxml:get_tag_attr_s(<<"xmlns">>, El), Name} of
        {<<"urn:xmpp:attention:0">>, <<"attention">>} -> true;
        {<<"eu.siacs.conversations.axolotl">>, <<"encrypted">>} -> true;
        {<<"urn:xmpp:omemo:2">>, <<"encrypted">>} -> true;
        {<<"urn:xmpp:openpgp:0">>, <<"openpgp">>} -> true;
        {<<"jabber:x:encrypted">>, <<"x">>} -> true;
        {<<"urn:xmpp:message-correct:0">>, <<"replace">>} -> true;
        {<<"urn:xmpp:message-retract:1">>, <<"retract">>} -> true;
        {<<"urn:xmpp:fasten:0">>, <<"apply-to">>} ->
            fxml:get_subtag_with_xmlns(El, <<"retract">>, <<"urn:xmpp:message-retract:0">>) /= false;
        _ -> false
    end.

els(Pkt) -> [case E of #xmlel{} -> E; _ -> xmpp:encode(E) end || E <- xmpp:get_els(Pkt)].

has_el(Pkt, Name, NS) ->
    lists:any(fun(#xmlel{name = N} = E) -> N == Name andalso fxml:get_tag_attr_s(<<"xmlns">>, E) == NS end,
              els(Pkt)).

enrolled(Host, #jid{luser = U, lserver = S}) ->
    mnesia:dirty_read(concierge_enrolled, {Host, U, S}) /= [].

report(Host, Component, Pkt) -> report(Host, Component, Pkt, false).

report(Host, Component, #message{from = From, to = To, type = T, id = Id, body = Body} = Pkt, Passed) ->
    State = [N || #xmlel{name = N} = E <- els(Pkt), fxml:get_tag_attr_s(<<"xmlns">>, E) == ?NS_CHATSTATES],
    Attrs = [{<<"xmlns">>, ?NS}, {<<"from">>, jid:encode(From)}, {<<"to">>, jid:encode(To)},
             {<<"type">>, atom_to_binary(T)}]
        ++ [{<<"id">>, Id} || Id /= <<>>]
        ++ [{<<"chat-state">>, S} || [S | _] <- [State]]
        ++ [{<<"has-body">>, <<"true">>} || Body /= []]
        ++ [{<<"passed">>, <<"true">>} || Passed],
    case ejabberd_router:is_my_route(Component) of
        true -> ejabberd_router:route(#message{from = jid:make(Host), to = jid:make(Component), type = normal,
                                               sub_els = [#xmlel{name = <<"report">>, attrs = Attrs}]});
        false -> ok
    end.

%%% passes (PROTOCOL.md "Passes")

%% Whether a pass lets this message, which would be diverted, go at once. Only plain messages:
%% what is not plain (a nudge, headers, a correction, a retraction, leaving) Concierge must see.
passed(Host, #message{from = From, to = To, body = Body} = Pkt) ->
    Target = bare(To),
    Now = erlang:monotonic_time(millisecond),
    Sender = live(Host, {Target, bare(From)}, Now) /= false,
    Any = live(Host, {Target, any}, Now),
    (Sender orelse Any /= false) andalso Body /= [] andalso not lists:any(fun not_plain/1, els(Pkt))
        andalso (Sender orelse not urgent(Body, Any)).

%% A body asking to go as urgent (any pass only) is for Concierge to decide; with several
%% bodies (xml:lang), any one of them.
urgent(_Body, none) -> false;
urgent(Body, Prefix) -> lists:any(fun(#text{data = D}) -> binary:longest_common_prefix([D, Prefix]) == byte_size(Prefix) end, Body).

not_plain(#xmlel{name = Name} = El) ->
    case {fxml:get_tag_attr_s(<<"xmlns">>, El), Name} of
        {<<"urn:xmpp:attention:0">>, <<"attention">>} -> true;
        {<<"http://jabber.org/protocol/shim">>, <<"headers">>} -> true;
        {<<"urn:xmpp:message-correct:0">>, <<"replace">>} -> true;
        {<<"urn:xmpp:message-retract:1">>, <<"retract">>} -> true;
        {<<"urn:xmpp:fasten:0">>, <<"apply-to">>} ->
            fxml:get_subtag_with_xmlns(El, <<"retract">>, <<"urn:xmpp:message-retract:0">>) /= false;
        {?NS_CHATSTATES, <<"gone">>} -> true;
        _ -> false
    end.

bare(#jid{} = J) -> jid:remove_resource(jid:tolower(J)).

passes_table(Host) -> gen_mod:get_module_proc(Host, concierge_passes).

%% The prefix of a live pass (none for a sender pass), or false. The table is gone only while
%% the module stops: then there are no passes.
live(Host, Key, Now) ->
    try ets:lookup(passes_table(Host), Key) of
        [{_, Deadline, Prefix}] when Deadline > Now -> Prefix;
        _ -> false
    catch error:badarg -> false
    end.

grant(Host, #message{from = From, to = To}, #xmlel{} = Deliver) ->
    case fxml:get_subtag(Deliver, <<"pass">>) of
        false -> ok;
        Pass ->
            Ttl = try binary_to_integer(fxml:get_tag_attr_s(<<"ttl">>, Pass)) catch _:_ -> 0 end,
            Key = case fxml:get_tag_attr_s(<<"scope">>, Pass) of
                      <<"sender">> -> {bare(To), bare(From)};
                      <<"any">> -> {bare(To), any};
                      _ -> false % a scope we do not know: no pass, every message is asked about
                  end,
            Prefix = case fxml:get_tag_attr_s(<<"urgent-prefix">>, Pass) of
                         <<>> -> none;
                         P -> P
                     end,
            if
                Key == false; Ttl =< 0 -> ok;
                %% ttl counts from the verdict's arrival, which is now.
                true -> catch ets:insert(passes_table(Host), {Key, erlang:monotonic_time(millisecond) + Ttl, Prefix}),
                        ok
            end
    end.

drop_any_pass(Host, #jid{} = Target) ->
    catch ets:delete(passes_table(Host), {bare(Target), any}),
    ok.

drop_passes(Host) ->
    catch ets:delete_all_objects(passes_table(Host)),
    ok.

revoke(Host, #xmlel{children = Els}) ->
    lists:foreach(
      fun(#xmlel{name = <<"pass">>} = P) ->
              try
                  Target = bare(jid:decode(fxml:get_tag_attr_s(<<"to">>, P))),
                  Key = case fxml:get_tag_attr_s(<<"from">>, P) of
                            <<>> -> {Target, any};
                            F -> {Target, bare(jid:decode(F))}
                        end,
                  ets:delete(passes_table(Host), Key)
              catch _:_ -> ok % an address we cannot read names no pass we gave
              end;
         (_) -> ok
      end, Els).

%% The component's stream ended: every pass of the hosts it serves ends with it.
component_disconnected(Component, _Reason) ->
    [drop_passes(H) || H <- ejabberd_option:hosts(), gen_mod:is_loaded(H, ?MODULE), component(H) == Component],
    ok.

%% The owner of a host's pass table; it also sweeps passes nobody looked at since they ended.
init([Host, _Opts]) ->
    process_flag(trap_exit, true),
    ets:new(passes_table(Host), [named_table, public, set, {read_concurrency, true}, {write_concurrency, true}]),
    erlang:send_after(?SWEEP_MS, self(), sweep),
    {ok, Host}.

handle_call(_Request, _From, Host) -> {reply, ok, Host}.

handle_cast(_Msg, Host) -> {noreply, Host}.

handle_info(sweep, Host) ->
    Now = erlang:monotonic_time(millisecond),
    ets:select_delete(passes_table(Host), [{{'_', '$1', '_'}, [{'=<', '$1', Now}], [true]}]),
    erlang:send_after(?SWEEP_MS, self(), sweep),
    {noreply, Host};
handle_info(_Info, Host) -> {noreply, Host}.

terminate(_Reason, _Host) -> ok.

code_change(_OldVsn, Host, _Extra) -> {ok, Host}.

%%% divert, verdict, fail open

%% The stanza as the client sent it, in jabber:client, for <forwarded/>.
inner(Pkt) ->
    El = xmpp:encode(xmpp:del_meta(Pkt, ?MARK), ?NS_CLIENT),
    fxml:replace_tag_attr(<<"xmlns">>, ?NS_CLIENT, El).

token(Host, DivertId, #xmlel{} = Msg) ->
    Data = lists:join(<<0>>, [DivertId | [fxml:get_tag_attr_s(A, Msg) || A <- [<<"from">>, <<"to">>, <<"id">>]]]),
    string:lowercase(binary:encode_hex(crypto:mac(hmac, sha256, key(Host), Data))).

%% Constant time (crypto:hash_equals/2 wants equal sizes).
equals(A, B) -> byte_size(A) == byte_size(B) andalso crypto:hash_equals(A, B).

divert(Host, Component, Pkt, Inner) ->
    DivertId = p1_rand:get_string(),
    Token = token(Host, DivertId, Inner),
    Delay = #xmlel{name = <<"delay">>, attrs = [{<<"xmlns">>, ?NS_DELAY},
                                                {<<"stamp">>, xmpp_util:encode_timestamp(erlang:timestamp())}]},
    IQ = #iq{type = set, from = jid:make(Host), to = jid:make(Component),
             sub_els = [#xmlel{name = <<"divert">>,
                               attrs = [{<<"xmlns">>, ?NS}, {<<"id">>, DivertId}, {<<"token">>, Token}],
                               children = [#xmlel{name = <<"forwarded">>, attrs = [{<<"xmlns">>, ?NS_FORWARD}],
                                                  children = [Delay, Inner]}]}]},
    %% ejabberd_iq calls back with the answer, or with 'timeout': the c2s never waits.
    Timeout = gen_mod:get_module_opt(Host, ?MODULE, timeout),
    ejabberd_router:route_iq(IQ, fun(Answer) -> verdict(Host, Component, DivertId, Token, Pkt, Answer) end,
                             undefined, Timeout).

verdict(Host, Component, DivertId, Token, Pkt, #iq{type = result, sub_els = [#xmlel{name = <<"verdict">>} = V]}) ->
    case {fxml:get_tag_attr_s(<<"id">>, V), fxml:remove_cdata(V#xmlel.children)} of
        {DivertId, [#xmlel{name = <<"deliver">>} = D]} -> grant(Host, Pkt, D), deliver(Pkt);
        {DivertId, [#xmlel{name = <<"held">>} = H]} ->
            case equals(fxml:get_tag_attr_s(<<"token">>, H), Token) of
                true -> ok;
                false -> fail_open(Host, Component, DivertId, Pkt, <<"held with a wrong token">>)
            end;
        {DivertId, [#xmlel{name = <<"refuse">>} = R]} -> refuse(Pkt, R);
        _ -> fail_open(Host, Component, DivertId, Pkt, <<"unusable verdict">>)
    end;
verdict(Host, Component, DivertId, _Token, Pkt, timeout) ->
    fail_open(Host, Component, DivertId, Pkt, <<"no answer in time">>);
verdict(Host, Component, DivertId, _Token, Pkt, _Other) ->
    fail_open(Host, Component, DivertId, Pkt, <<"error answer">>).

deliver(Pkt) -> ejabberd_router:route(xmpp:put_meta(Pkt, ?MARK, deliver)).

refuse(Pkt, R) ->
    Err = try #stanza_error{type = binary_to_existing_atom(fxml:get_tag_attr_s(<<"type">>, R)),
                            reason = binary_to_existing_atom(fxml:get_tag_attr_s(<<"condition">>, R)),
                            text = [#text{data = fxml:get_cdata(R#xmlel.children)}]}
          catch _:_ -> xmpp:err_undefined_condition(cancel)
          end,
    ejabberd_router:route_error(Pkt, Err).

fail_open(Host, Component, DivertId, Pkt, Why) ->
    ?WARNING_MSG("Concierge did not decide on ~ts (~ts): delivered directly", [DivertId, Why]),
    deliver(Pkt),
    ejabberd_router:route(#iq{type = set, id = <<"cc-", DivertId/binary>>, from = jid:make(Host),
                              to = jid:make(Component),
                              sub_els = [#xmlel{name = <<"cancel">>, attrs = [{<<"xmlns">>, ?NS}, {<<"id">>, DivertId}]}]}).

%%% release and the enrolled set (iqs from the component)

%% gen_iq_handler would decode our payload with the xmpp codec, which does not know it: keep it.
decode_iq_subel(El) -> El.

process_iq(#iq{from = From, to = #jid{lserver = Host}} = IQ) ->
    case From#jid.lserver == component(Host) andalso From#jid.luser == <<>> of
        true -> handle_iq(Host, IQ);
        false -> xmpp:make_error(IQ, xmpp:err_forbidden())
    end.

handle_iq(Host, #iq{type = set, sub_els = [#xmlel{name = <<"release">>} = R]} = IQ) ->
    Fwd = fxml:get_subtag_with_xmlns(R, <<"forwarded">>, ?NS_FORWARD),
    Msg = Fwd /= false andalso fxml:get_subtag_with_xmlns(Fwd, <<"message">>, ?NS_CLIENT),
    DivertId = fxml:get_tag_attr_s(<<"id">>, R),
    if
        Msg == false; DivertId == <<>> ->
            xmpp:make_error(IQ, xmpp:err_bad_request(<<"no forwarded message">>, <<"en">>));
        true ->
            case equals(fxml:get_tag_attr_s(<<"token">>, R), token(Host, DivertId, Msg)) of
                true -> release(IQ, Msg);
                false ->
                    ?WARNING_MSG("Refused a release with an invalid token for ~ts", [fxml:get_tag_attr_s(<<"to">>, Msg)]),
                    xmpp:make_error(IQ, xmpp:err_forbidden(<<"invalid release token">>, <<"en">>))
            end
    end;
%% Any enrolled iq is a connect or a change to the set: Concierge grants passes anew.
handle_iq(Host, #iq{type = get, sub_els = [#xmlel{name = <<"enrolled">>}]} = IQ) ->
    drop_passes(Host),
    #concierge_generation{generation = G, count = N} = generation(Host),
    xmpp:make_iq_result(IQ, #xmlel{name = <<"enrolled">>, attrs = [{<<"xmlns">>, ?NS},
                                   {<<"generation">>, integer_to_binary(G)}, {<<"count">>, integer_to_binary(N)}]});
handle_iq(Host, #iq{type = set, sub_els = [#xmlel{name = <<"enrolled">>} = E]} = IQ) ->
    drop_passes(Host),
    try [binary_to_integer(fxml:get_tag_attr_s(A, E)) || A <- [<<"generation">>, <<"chunk">>, <<"chunks">>]] of
        [G, C, N] when C >= 1, C =< N ->
            Jids = [J || #xmlel{name = <<"user">>} = U <- E#xmlel.children, J <- [fxml:get_tag_attr_s(<<"jid">>, U)], J /= <<>>],
            chunk(Host, G, C, N, Jids),
            xmpp:make_iq_result(IQ);
        _ -> xmpp:make_error(IQ, xmpp:err_bad_request())
    catch _:_ -> xmpp:make_error(IQ, xmpp:err_bad_request())
    end;
handle_iq(Host, #iq{type = set, sub_els = [#xmlel{name = <<"revoke">>} = R]} = IQ) ->
    revoke(Host, R),
    xmpp:make_iq_result(IQ);
handle_iq(_Host, IQ) ->
    xmpp:make_error(IQ, xmpp:err_feature_not_implemented()).

%% Routing to a local user runs in this process up to the session or offline storage, so a
%% bounce shows up (offline_message/1) before route/1 returns; only then do we answer.
release(IQ, MsgEl) ->
    try xmpp:decode(MsgEl, ?NS_CLIENT, [ignore_els]) of
        #message{to = #jid{}, from = #jid{}} = Msg -> release(IQ, Msg, Msg#message.to);
        _ -> xmpp:make_error(IQ, xmpp:err_bad_request())
    catch _:_ -> xmpp:make_error(IQ, xmpp:err_bad_request())
    end.

release(IQ, Msg, To) ->
    Allowed = ejabberd_auth:user_exists(To#jid.luser, To#jid.lserver)
        andalso allow == ejabberd_hooks:run_fold(privacy_check_packet, To#jid.lserver, allow, [To, Msg, in]),
    case Allowed of
        false -> bounced(IQ, xmpp:err_service_unavailable());
        true ->
            erase(concierge_bounced),
            ejabberd_router:route(xmpp:put_meta(Msg, ?MARK, release)),
            case erase(concierge_bounced) of
                true -> bounced(IQ, xmpp:err_service_unavailable());
                _ -> xmpp:make_iq_result(IQ)
            end
    end.

bounced(IQ, Err) ->
    xmpp:make_error(IQ, Err#stanza_error{sub_els = [#xmlel{name = <<"bounced">>, attrs = [{<<"xmlns">>, ?NS}]}]}).

%% A release with no session and no offline storage: ejabberd_sm would bounce it to the
%% sender at 100; Concierge gets the bounce instead and holds it again.
offline_message({bounce, #message{} = Pkt} = Acc) ->
    case xmpp:get_meta(Pkt, ?MARK, false) of
        release -> put(concierge_bounced, true), {stop, {drop, Pkt}};
        _ -> Acc
    end;
offline_message(Acc) -> Acc.

generation(Host) ->
    case mnesia:dirty_read(concierge_generation, Host) of
        [G] -> G;
        [] -> #concierge_generation{host = Host}
    end.

%% Keeps the chunks of a push; when all have arrived, replaces the host's set in one transaction.
chunk(Host, G, C, N, Jids) ->
    F = fun() ->
                Newer = [K || #concierge_chunk{key = {_, KG, _} = K} <- mnesia:match_object(
                                  #concierge_chunk{key = {Host, '_', '_'}, _ = '_'}), KG > G],
                case Newer of
                    [_ | _] -> ok; % a newer push is arriving: this chunk is stale
                    [] ->
                        [mnesia:delete({concierge_chunk, K}) || #concierge_chunk{key = {_, KG, _} = K}
                            <- mnesia:match_object(#concierge_chunk{key = {Host, '_', '_'}, _ = '_'}), KG < G],
                        mnesia:write(#concierge_chunk{key = {Host, G, C}, chunks = N, jids = Jids}),
                        Got = mnesia:match_object(#concierge_chunk{key = {Host, G, '_'}, _ = '_'}),
                        case length(Got) of
                            N -> replace(Host, G, lists:usort(lists:append([J || #concierge_chunk{jids = J} <- Got]))),
                                 [mnesia:delete({concierge_chunk, K}) || #concierge_chunk{key = K} <- Got];
                            _ -> ok
                        end
                end
        end,
    {atomic, _} = mnesia:transaction(F),
    ok.

replace(Host, G, Jids) ->
    [mnesia:delete_object(E) || E <- mnesia:match_object(#concierge_enrolled{key = {Host, '_', '_'}, _ = '_'})],
    Users = [J || B <- Jids, J <- [try jid:decode(B) catch _:_ -> bad end], J /= bad],
    [mnesia:write(#concierge_enrolled{key = {Host, U, S}, jid = jid:encode(J)})
     || #jid{luser = U, lserver = S} = J <- Users, U /= <<>>],
    mnesia:write(#concierge_generation{host = Host, generation = G, count = length(Users)}),
    ?INFO_MSG("Enrolled set generation ~B stored on ~ts (~B users)", [G, Host, length(Users)]).
