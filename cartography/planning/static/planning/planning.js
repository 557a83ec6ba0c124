/* The planners' map (district choropleth, hotspot cells, recurring places, early-warning circles)
   and the monthly chart. The layers are the page's own GeoJSON downloads, with the same filters;
   the figures are in the tables too, so nothing is lost without this script. */
(function () {
  "use strict";
  var el = document.getElementById("planning-map");
  var configNode = document.getElementById("planning-map-config");
  if (el && configNode && typeof L !== "undefined") {
    var config = JSON.parse(configNode.textContent);
    var labels = config.labels;
    var map = L.map(el);
    L.tileLayer(el.dataset.tiles, {maxZoom: 19, attribution: "&copy; OpenStreetMap"}).addTo(map);
    map.setView([parseFloat(el.dataset.lat), parseFloat(el.dataset.lon)], parseInt(el.dataset.zoom, 10));
    // Open beside the map on a desktop; a button on a phone, where it would hide the map.
    var control = L.control.layers(null, null, {collapsed: window.innerWidth < 600}).addTo(map);

    // Tooltips are built from nodes, never from the names as HTML.
    function tip(lines) {
      var box = document.createElement("div");
      lines.forEach(function (line, i) {
        var row = document.createElement(i === 0 ? "strong" : "div");
        row.textContent = line;
        box.appendChild(row);
        if (i === 0) { box.appendChild(document.createElement("br")); }
      });
      return box;
    }
    function number(value) {
      return value === null || value === undefined ? "—" : Number(value).toLocaleString(document.documentElement.lang);
    }
    function load(name, build, title) {
      return fetch(config.layers[name], {credentials: "same-origin"}).then(function (r) { return r.json(); })
        .then(function (data) {
          var layer = build(data);
          layer.addTo(map);
          el.dataset[name] = String(data.features.length);
          return {layer: layer, count: data.features.length, title: title};
        });
    }
    var panes = {districts: 350, hotspots: 400, recurring: 450, clusters: 500};
    Object.keys(panes).forEach(function (name) { map.createPane(name).style.zIndex = panes[name]; });

    Promise.all([
      load("districts", function (data) {
        return L.geoJSON(data, {
          pane: "districts",
          style: function (f) { return {color: "#444", weight: 1, fillColor: f.properties.colour, fillOpacity: 0.6}; },
          onEachFeature: function (f, layer) {
            layer.bindTooltip(tip([f.properties.name,
              number(f.properties.count) + " " + labels.reports,
              number(f.properties.value) + " (" + (f.properties["class"] === null ? labels.no_data : labels["class"] + " " + (f.properties["class"] + 1)) + ")"]));
          }
        });
      }, labels.layer_districts),
      load("hotspots", function (data) {
        return L.geoJSON(data, {
          pane: "hotspots",
          style: function (f) { return {color: f.properties.colour, weight: 1, fillColor: f.properties.colour, fillOpacity: 0.75}; },
          onEachFeature: function (f, layer) {
            layer.bindTooltip(tip([f.properties.label, f.properties.category_name, number(f.properties.count) + " " + labels.reports]));
          }
        });
      }, labels.layer_hotspots),
      load("recurring", function (data) {
        return L.geoJSON(data, {
          pane: "recurring",
          style: {color: "#00441b", weight: 3, fillColor: "#00441b", fillOpacity: 0.15},
          onEachFeature: function (f, layer) {
            var p = f.properties;
            layer.bindTooltip(tip([labels.rank + " " + p.rank + " · " + p.category_name,
              labels.first_week + " : " + p.usual_first_week,
              labels.action + " " + p.action_week_from + "–" + p.action_week_to,
              labels.years + " : " + p.years_hot.join(", "),
              number(p.reports) + " " + labels.reports]));
          }
        });
      }, labels.layer_recurring),
      load("clusters", function (data) {
        return L.geoJSON(data, {
          pointToLayer: function (f, latlng) {
            return L.circle(latlng, {pane: "clusters", radius: f.properties.radius_m, color: "#6a00a8", weight: 3, fillOpacity: 0.15});
          },
          onEachFeature: function (f, layer) {
            var p = f.properties;
            layer.bindTooltip(tip([p.category_name, p.start_date + " – " + p.end_date,
              number(p.observed) + " " + labels.observed + ", " + number(p.expected) + " " + labels.expected, "p = " + p.p_value]));
          }
        });
      }, labels.layer_clusters)
    ]).then(function (layers) {
      var bounds = null;
      layers.forEach(function (entry) { control.addOverlay(entry.layer, entry.title); });  // in a fixed order
      layers.forEach(function (entry) {
        if (entry.count && entry.layer.getBounds) {
          var b = entry.layer.getBounds();
          if (b.isValid()) { bounds = bounds ? bounds.extend(b) : L.latLngBounds(b.getSouthWest(), b.getNorthEast()); }
        }
      });
      if (bounds) { map.fitBounds(bounds); }
      el.dataset.ready = "true";
    }).catch(function () { el.dataset.ready = "error"; });
  }

  var chartNode = document.getElementById("planning-chart-data");
  var canvas = document.getElementById("chart-monthly");
  if (chartNode && canvas && typeof Chart !== "undefined") {
    var data = JSON.parse(chartNode.textContent);
    var palette = ["#0b5cad", "#8a4b00", "#2e7d32", "#6a00a8", "#b00020", "#00695c"];
    Chart.defaults.font.size = 14;
    Chart.defaults.color = "#1b1b1b";
    new Chart(canvas, {
      type: "line",
      data: {
        labels: data.months,
        datasets: data.series.map(function (s, i) {
          var colour = palette[i % palette.length];
          return {label: String(s.year), data: s.counts, borderColor: colour, backgroundColor: colour, tension: 0.2};
        })
      },
      options: {responsive: true, maintainAspectRatio: false, animation: false,
                scales: {y: {beginAtZero: true, ticks: {precision: 0}}}}
    });
  }
})();
