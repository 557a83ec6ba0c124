/* The public map: MapLibre GL draws the site's vector tiles (districts, cells, reports). The view
   (zoom, centre) and the filters live in the URL, to share; a click shows a report's public details
   or offers to report a problem at that point. */
(function () {
  "use strict";
  var element = document.getElementById("public-map");
  var configElement = document.getElementById("public-map-config");
  if (!element || !configElement || typeof maplibregl === "undefined") { return; }
  var config = JSON.parse(configElement.textContent);
  var form = document.getElementById("map-filters");
  var panel = document.getElementById("map-panel");
  var panelContent = document.getElementById("map-panel-content");
  var status = document.getElementById("map-status");
  var listLink = document.getElementById("map-list-link");
  var FILTERS = ["group", "category", "status", "resolved_days", "period", "district"];
  var STAGE_COLOURS = {open: "#b00020", in_progress: "#e07b00", resolved: "#2e7d32"};

  maplibregl.setWorkerUrl(config.worker);

  document.querySelectorAll(".swatch[data-colour]").forEach(function (swatch) {
    swatch.style.backgroundColor = swatch.dataset.colour;
  });

  function filterQuery() {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, key) {
      if (FILTERS.indexOf(key) >= 0 && value !== "") { params.append(key, value); }
    });
    return params;
  }

  function tilesUrl() {
    var query = filterQuery().toString();
    return config.tiles + (query ? "?" + query : "");
  }

  function resolvedDays() {
    var value = parseInt(form.elements.resolved_days.value, 10);
    return value > 0 ? value : config.resolvedDays;
  }

  function categoryColours() {
    if (!config.categories.length) { return "#0072b2"; }
    var expression = ["match", ["get", "category"]];
    config.categories.forEach(function (category) { expression.push(category.id, category.colour); });
    expression.push("#595959");
    return expression;
  }

  function ageOpacity() {
    // Resolved reports fade as they age, down to a quarter after the "resolved since" days.
    return ["case", ["==", ["get", "stage"], "resolved"],
      ["interpolate", ["linear"], ["get", "age"], 0, 1, resolvedDays(), 0.25], 1];
  }

  var sources = {
    reports: {type: "vector", tiles: [tilesUrl()], minzoom: 0, maxzoom: config.pointsAlwaysFrom}
  };
  var layers = [{id: "background", type: "background", paint: {"background-color": "#eef1f4"}}];
  if (config.basemap) {
    sources.basemap = {type: "raster", tiles: [config.basemap.replace("{s}", "a")], tileSize: 256,
                       maxzoom: 19, attribution: config.basemapAttribution};
    layers.push({id: "basemap", type: "raster", source: "basemap", paint: {"raster-opacity": 0.7}});
  }
  layers.push(
    {id: "districts-fill", type: "fill", source: "reports", "source-layer": "districts", maxzoom: config.cellsFrom,
     paint: {"fill-color": ["interpolate", ["linear"], ["get", "share"], 0, "#f7fbff", 0.25, "#c6dbef",
                            0.5, "#6baed6", 0.75, "#2171b5", 1, "#08306b"],
             "fill-opacity": 0.65}},
    {id: "districts-line", type: "line", source: "reports", "source-layer": "districts",
     paint: {"line-color": "#073f78", "line-width": 1.5}},
    // The server sends cells, or reports once a tile is not crowded: each layer draws what came.
    {id: "cells", type: "circle", source: "reports", "source-layer": "cells",
     paint: {"circle-color": "#0b5cad", "circle-opacity": 0.75, "circle-stroke-color": "#fff",
             "circle-stroke-width": 1.5,
             "circle-radius": ["interpolate", ["linear"], ["sqrt", ["get", "count"]], 1, 5, 10, 14, 40, 15]}},
    {id: "reports", type: "circle", source: "reports", "source-layer": "reports",
     paint: {"circle-color": categoryColours(), "circle-radius": 7,
             "circle-stroke-color": ["match", ["get", "stage"], "resolved", STAGE_COLOURS.resolved,
                                     "in_progress", STAGE_COLOURS.in_progress, STAGE_COLOURS.open],
             "circle-stroke-width": 2.5, "circle-opacity": ageOpacity(), "circle-stroke-opacity": ageOpacity()}}
  );

  var url = new URL(window.location.href);
  var zoom = parseFloat(url.searchParams.get("z"));
  var lat = parseFloat(url.searchParams.get("lat"));
  var lon = parseFloat(url.searchParams.get("lon"));
  var options = {container: element, style: {version: 8, sources: sources, layers: layers},
                 maxZoom: 19, attributionControl: {compact: true}, cooperativeGestures: false};
  if (isFinite(zoom) && isFinite(lat) && isFinite(lon)) {
    options.center = [lon, lat];
    options.zoom = zoom;
  } else {
    options.bounds = [[config.bounds[0], config.bounds[1]], [config.bounds[2], config.bounds[3]]];
    options.fitBoundsOptions = {padding: 10};
  }
  var map = new maplibregl.Map(options);
  map.addControl(new maplibregl.NavigationControl({showCompass: false}), "top-right");
  element.publicMap = map;  // for the tests, and for anyone scripting the page

  function viewBox() {
    var bounds = map.getBounds();
    return [bounds.getWest(), bounds.getSouth(), bounds.getEast(), bounds.getNorth()]
      .map(function (v) { return v.toFixed(6); }).join(",");
  }

  function remember() {
    var params = filterQuery();
    var centre = map.getCenter();
    params.set("z", map.getZoom().toFixed(2));
    params.set("lat", centre.lat.toFixed(6));
    params.set("lon", centre.lng.toFixed(6));
    history.replaceState(null, "", "?" + params.toString());
    var listParams = filterQuery();
    listParams.set("bbox", viewBox());
    listLink.href = config.list + "?" + listParams.toString();
  }

  function refresh() {
    map.getSource("reports").setTiles([tilesUrl()]);
    map.setPaintProperty("reports", "circle-opacity", ageOpacity());
    map.setPaintProperty("reports", "circle-stroke-opacity", ageOpacity());
    remember();
  }

  form.addEventListener("change", refresh);
  form.addEventListener("submit", function (event) { event.preventDefault(); refresh(); });
  map.on("moveend", remember);
  // Ready once drawn: "idle" also comes when a basemap's tiles fail (offline), where "load" may not.
  function ready() {
    if (element.dataset.ready) { return; }
    remember();
    element.dataset.ready = "true";
  }
  map.on("load", ready);
  map.once("idle", ready);

  function reportHereLink(lngLat) {
    var link = document.createElement("a");
    link.className = "button primary";
    link.href = config.report + "?lat=" + lngLat.lat.toFixed(6) + "&lon=" + lngLat.lng.toFixed(6);
    link.textContent = element.dataset.reportHere || form.dataset.reportHere;
    return link;
  }

  function panelShow(nodes) {
    panelContent.replaceChildren.apply(panelContent, nodes);
    panel.hidden = false;
  }

  function paragraph(text) {
    var p = document.createElement("p");
    p.textContent = text;
    return p;
  }

  document.getElementById("map-panel-close").addEventListener("click", function () {
    panel.hidden = true;
    element.querySelector("canvas").focus();
  });

  map.on("click", function (event) {
    var found = map.queryRenderedFeatures(event.point, {layers: ["reports", "cells", "districts-fill"]});
    var here = paragraph("");
    here.appendChild(reportHereLink(event.lngLat));
    var feature = found[0];
    if (feature && feature.layer.id === "reports") {
      fetch(config.detail.replace("REF", encodeURIComponent(feature.properties.ref)))
        .then(function (response) { if (!response.ok) { throw new Error(response.status); } return response.text(); })
        .then(function (html) {
          var holder = document.createElement("div");
          holder.innerHTML = html;  // the site's own fragment, escaped by Django's templates
          panelShow([holder]);
          var title = holder.querySelector("h2");
          if (title) { title.tabIndex = -1; title.focus(); }
        })
        .catch(function () { status.textContent = form.dataset.failed; });
      return;
    }
    if (feature && feature.layer.id === "cells") {
      map.easeTo({center: event.lngLat, zoom: Math.min(map.getZoom() + 2, config.pointsAlwaysFrom)});
      return;
    }
    if (feature && feature.layer.id === "districts-fill") {
      panelShow([paragraph(feature.properties.name + " : " + form.dataset.countLabel.replace("{n}", feature.properties.count)), here]);
      return;
    }
    panelShow([here]);
  });

  map.on("mousemove", function (event) {
    var found = map.queryRenderedFeatures(event.point, {layers: ["reports", "cells"]});
    map.getCanvas().style.cursor = found.length ? "pointer" : "";
  });

  map.on("error", function (event) {
    // A basemap that cannot be reached (offline, blocked) leaves the districts and reports drawn;
    // MapLibre then may not draw again by itself, nor say it has loaded: ask for a frame.
    if (event.sourceId === "basemap") {
      map.triggerRepaint();
    } else {
      status.textContent = form.dataset.failed;
    }
  });
})();
