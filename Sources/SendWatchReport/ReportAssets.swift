/// The page's fixed style sheet and scripts, inlined into every report (no network access, no external fonts).
///
/// The scripts only filter, sort, expand and highlight: every fact is in the HTML itself, so the page reads the
/// same with JavaScript disabled. They read nothing but the DOM (no input data is embedded in script text, so
/// there is nothing in the input to escape for a script context).
enum ReportAssets {
    /// Content-Security-Policy of the page: nothing may be loaded from anywhere; only the inline style and
    /// scripts run. A second line of defence behind escaping.
    static let contentSecurityPolicy =
        "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

    static let css = """
        :root{--fg:#212529;--muted:#6c757d;--line:#dee2e6;--bg:#fff;--panel:#f8f9fa;--low:#868e96;--medium:#f08c00;\
        --high:#e8590c;--critical:#c92a2a}
        *{box-sizing:border-box}
        body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;\
        color:var(--fg);background:var(--bg)}
        main{max-width:1240px;margin:0 auto;padding:0 20px 40px}
        header.top{background:#1b1f24;color:#f1f3f5;padding:18px 20px 14px}
        header.top .inner{max-width:1240px;margin:0 auto}
        header.top h1{margin:0 0 4px;font-size:22px}
        header.top .src{color:#adb5bd;font-size:13px;word-break:break-all}
        .cards{display:flex;flex-wrap:wrap;gap:10px;margin-top:12px}
        .card{background:#2b3138;border-radius:6px;padding:8px 12px;min-width:120px}
        .card b{display:block;font-size:20px;color:#fff}
        .card span{font-size:12px;color:#ced4da}
        h2{font-size:18px;margin:26px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
        h4{margin:12px 0 4px;font-size:13px;text-transform:uppercase;letter-spacing:.03em;color:var(--muted)}
        h5{margin:8px 0 2px;font-size:12px;font-weight:600;color:var(--muted)}
        .note{color:var(--muted);font-size:13px;margin:4px 0 8px}
        .mono,code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
        table{border-collapse:collapse;width:100%}
        th,td{text-align:left;padding:3px 8px;border-bottom:1px solid var(--line);vertical-align:top}
        th{font-size:12px;color:var(--muted);font-weight:600;white-space:nowrap}
        th[data-sort]{cursor:pointer}
        th[data-sort]:after{content:" \\2195";color:#adb5bd}
        td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
        .wrap{overflow-wrap:anywhere}
        .nowrap{white-space:nowrap}
        .scroll{max-height:420px;overflow:auto}
        .chip{display:inline-block;padding:0 7px;border-radius:10px;color:#fff;font-size:12px;font-weight:600}
        .sev{display:inline-block;padding:0 7px;border-radius:3px;font-size:12px;font-weight:700;color:#fff}
        .sev-low{background:var(--low)}.sev-medium{background:var(--medium)}
        .sev-high{background:var(--high)}.sev-critical{background:var(--critical)}
        mark.ind{border-radius:3px;padding:0 2px;color:inherit}
        mark.ind-phone{background:#ffc9c9;box-shadow:inset 0 -2px #e03131}
        mark.ind-url{background:#d0bfff;box-shadow:inset 0 -2px #7048e8}
        mark.ind-domain{background:#b2f2bb;box-shadow:inset 0 -2px #2f9e44}
        mark.ind-money{background:#ffec99;box-shadow:inset 0 -2px #f08c00}
        .slot{background:#e9ecef;border:1px dashed #adb5bd;border-radius:3px;padding:0 3px;font-family:monospace}
        .legend{display:flex;flex-wrap:wrap;gap:14px;font-size:12px;color:var(--muted);margin:6px 0}
        .legend i{display:inline-block;width:12px;height:12px;border-radius:2px;vertical-align:-2px;margin-right:4px}
        svg{display:block;max-width:100%;height:auto;background:var(--panel);border:1px solid var(--line);border-radius:6px}
        svg text{font:11px system-ui,sans-serif;fill:#343a40}
        svg .axis{stroke:#ced4da;stroke-width:1}
        svg .tick{fill:#868e96;font-size:10px}
        .tl-row .bar{stroke:none}
        .tl-row .bar.critical{stroke:#7f1d1d;stroke-width:1.5}
        .tl-row .bar.open{stroke-dasharray:3 2;stroke:#212529;stroke-width:1}
        .tl-row:hover text{fill:#000;font-weight:700}
        .tl-row:hover .bg{fill:#e7f5ff}
        .ge{fill:none;stroke:#868e96;stroke-opacity:.55}
        .ge.inferred{stroke-dasharray:4 3}
        .gn circle{stroke:#fff;stroke-width:1.5}
        .gn.account circle{fill:#1c7ed6}
        .gn.phone circle{fill:#e03131}
        .gn.domain circle{fill:#2f9e44}
        .gn.account.sev-critical circle{stroke:var(--critical);stroke-width:2.5}
        .gn.account.sev-high circle{stroke:var(--high);stroke-width:2.5}
        svg.focus .ge{stroke-opacity:.12}
        svg.focus .gn{opacity:.35}
        svg.focus .ge.hl{stroke:#1864ab;stroke-opacity:1}
        svg.focus .gn.hl{opacity:1}
        svg.focus .gn.hl text{font-weight:700}
        #controls{position:sticky;top:0;z-index:2;background:#fff;border-bottom:1px solid var(--line);padding:8px 0}
        #controls[hidden]{display:none}
        #controls input[type=search]{width:280px;padding:4px 6px}
        #controls .count{color:var(--muted);font-size:13px}
        .incident{border:1px solid var(--line);border-left:5px solid var(--low);border-radius:6px;margin:10px 0;background:#fff}
        .incident.sev-medium{border-left-color:var(--medium)}.incident.sev-high{border-left-color:var(--high)}
        .incident.sev-critical{border-left-color:var(--critical)}
        .incident summary{cursor:pointer;padding:8px 12px;list-style-position:outside}
        .incident summary .title{font-weight:600;margin:0 6px}
        .incident summary .meta{display:block;color:var(--muted);font-size:12.5px;margin-top:2px}
        .incident .body{padding:0 14px 12px}
        .cols{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:20px}
        @media (max-width:900px){.cols{grid-template-columns:1fr}}
        .tpl{background:var(--panel);border-radius:4px;padding:6px 8px;margin:2px 0}
        ul.plain{margin:2px 0;padding-left:18px}
        .hidden-by-filter{display:none!important}
        footer{color:var(--muted);font-size:12.5px;border-top:1px solid var(--line);margin-top:30px;padding-top:10px}
        """

    /// The first script in `<body>`: counts script errors into `data-script-errors` (and the first message into
    /// `data-script-error-message`) on `<body>`, for the browser test and for anyone debugging the page.
    static let errorCapture = """
        (function(){var b=document.body;b.setAttribute('data-script-errors','0');\
        window.onerror=function(m,s,l,c){var n=Number(b.getAttribute('data-script-errors')||'0')+1;\
        b.setAttribute('data-script-errors',String(n));\
        if(n===1){b.setAttribute('data-script-error-message',String(m).slice(0,300)+' (line '+l+':'+c+')');}};})();
        """

    /// The last script: filtering, sorting, expanding, graph highlighting; marks `<body data-report-ready="1">`.
    static let main = """
        (function(){
        var rank={low:0,medium:1,high:2,critical:3};
        var controls=document.getElementById('controls');
        controls.hidden=false;
        var text=document.getElementById('f-text'),kind=document.getElementById('f-kind'),
            sev=document.getElementById('f-sev'),shown=document.getElementById('f-count');
        var items=[].slice.call(document.querySelectorAll('[data-kind][data-sev]'));
        var haystack=items.map(function(e){return (e.getAttribute('data-search')||e.textContent).toLowerCase();});
        function apply(){
          var q=text.value.trim().toLowerCase(),k=kind.value,s=rank[sev.value]||0,n=0,total=0;
          items.forEach(function(e,i){
            var ok=(!k||(' '+e.getAttribute('data-kind')+' ').indexOf(' '+k+' ')>=0)&&(rank[e.getAttribute('data-sev')]>=s)&&
              (!q||haystack[i].indexOf(q)>=0);
            e.classList.toggle('hidden-by-filter',!ok);
            if(e.classList.contains('incident')){total++;if(ok)n++;}
          });
          shown.textContent=n+' of '+total+' detailed incidents shown';
        }
        text.addEventListener('input',apply);kind.addEventListener('change',apply);sev.addEventListener('change',apply);
        document.getElementById('expand-all').addEventListener('click',function(){
          [].forEach.call(document.querySelectorAll('.incident details'),function(d){d.open=true;});});
        document.getElementById('collapse-all').addEventListener('click',function(){
          [].forEach.call(document.querySelectorAll('.incident details'),function(d){d.open=false;});});
        [].forEach.call(document.querySelectorAll('table.sortable'),function(table){
          var body=table.tBodies[0];
          [].forEach.call(table.querySelectorAll('th[data-sort]'),function(th,col){
            var dir=1;
            th.addEventListener('click',function(){
              var idx=[].indexOf.call(th.parentNode.children,th),num=th.getAttribute('data-sort')==='num';
              var rows=[].slice.call(body.rows);
              rows.sort(function(a,b){
                var x=a.cells[idx].getAttribute('data-v'),y=b.cells[idx].getAttribute('data-v');
                if(x===null)x=a.cells[idx].textContent;if(y===null)y=b.cells[idx].textContent;
                var c=num?(Number(x)-Number(y)):(x<y?-1:x>y?1:0);
                return c*dir;});
              rows.forEach(function(r){body.appendChild(r);});
              dir=-dir;});
          });
        });
        var svg=document.getElementById('graph-svg');
        if(svg){
          var edges=[].slice.call(svg.querySelectorAll('.ge'));
          [].forEach.call(svg.querySelectorAll('.gn'),function(g){
            g.addEventListener('mouseenter',function(){
              var id=g.getAttribute('data-n');svg.classList.add('focus');g.classList.add('hl');
              edges.forEach(function(e){
                if(e.getAttribute('data-a')===id||e.getAttribute('data-t')===id){
                  e.classList.add('hl');
                  var other=e.getAttribute('data-a')===id?e.getAttribute('data-t'):e.getAttribute('data-a');
                  var o=svg.querySelector('.gn[data-n="'+other+'"]');if(o)o.classList.add('hl');}});});
            g.addEventListener('mouseleave',function(){
              svg.classList.remove('focus');
              [].forEach.call(svg.querySelectorAll('.hl'),function(e){e.classList.remove('hl');});});
          });
        }
        apply();
        document.body.setAttribute('data-report-ready','1');
        })();
        """
}
