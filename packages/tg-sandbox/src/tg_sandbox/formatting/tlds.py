"""Top-level domains that make a bare "name.tld" a link (a subset of TDLib's is_common_tld list)."""

from __future__ import annotations

# Country-code domains, as in the IANA root zone.
_COUNTRY = """
ac ad ae af ag ai al am ao aq ar as at au aw ax az ba bb bd be bf bg bh bi bj bm bn bo br bs bt bv
bw by bz ca cc cd cf cg ch ci ck cl cm cn co cr cu cv cw cx cy cz de dj dk dm do dz ec ee eg er es
et eu fi fj fk fm fo fr ga gb gd ge gf gg gh gi gl gm gn gp gq gr gs gt gu gw gy hk hm hn hr ht hu
id ie il im in io iq ir is it je jm jo jp ke kg kh ki km kn kp kr kw ky kz la lb lc li lk lr ls lt
lu lv ly ma mc md me mg mh mk ml mm mn mo mp mq mr ms mt mu mv mw mx my mz na nc ne nf ng ni nl no
np nr nu nz om pa pe pf pg ph pk pl pm pn pr ps pt pw py qa re ro rs ru rw sa sb sc sd se sg sh si
sj sk sl sm sn so sr ss st su sv sx sy sz tc td tf tg th tj tk tl tm tn to tr tt tv tw tz ua ug uk
us uy uz va vc ve vg vi vn vu wf ws ye yt za zm zw
"""

# Generic domains people actually type; TDLib knows about 1,500, these are the common ones.
_GENERIC = """
aero app art asia bank bar beer best bet bid bike bio biz black blog blue bot boutique box build
business buzz cafe cam camera camp capital car cards care career careers cars casa cash casino cat
center ceo chat cheap church city click clinic cloud club codes coffee college com community
company computer consulting cool coop credit cricket cyou dance data date dating deal deals design
dev diet digital direct directory discount dog domains download earth eco edu education email
energy engineer engineering enterprises estate events exchange expert express faith family fan
fans farm fashion fast film finance financial fish fit fitness flights football forum foundation
free fun fund furniture futbol fyi gallery game games garden gay gift gifts gives global gmbh gold
golf google gov graphics green group guide guru health help hiphop hockey holdings holiday homes
host hosting hot house how icu inc industries info ink institute insurance int international
investments jobs kim kitchen land law lawyer lgbt life limited link live llc loan loans lol love
ltd luxury management market marketing mba media meme men menu mil mobi moda moe money monster
moscow movie museum music name net network news ninja one onion online ooo org page partners party
pet photo photography photos pics pink pizza place plus porn press pro productions promo
properties pub quest racing radio realty recipes red rehab rent rentals repair report rest
restaurant review reviews rocks run sale salon school science services sex sexy shop shopping show
site ski social software solar solutions space sport store stream studio study style supply support
surf systems tax taxi team tech technology tel tickets tips today ton tools top tours town toys
trade training travel tube university uno vip vision vote voting wang watch webcam website wiki win
wine work works world wtf xin xxx xyz yandex yoga youtube zone
бг бел дети ею ком мкд мон москва онлайн орг рус рф сайт срб укр қаз
"""

COMMON_TLDS = frozenset((_COUNTRY + _GENERIC).split())
